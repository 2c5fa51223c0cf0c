package main

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cohortline/cohortline/cmd/internal/configfile"
)

// TestSecurityConfig: kafka.tls, kafka.sasl and clickhouse.tls load into one
// Kafka dialer and the ClickHouse settings, the passwords from their
// sources; every bad setting fails at start with its key, its line and the
// reason, and no error carries a password.
func TestSecurityConfig(t *testing.T) {
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	pwFile := filepath.Join(dir, "kafka.password")
	os.WriteFile(pwFile, []byte("file-pw\n"), 0o600)
	notPEM := filepath.Join(dir, "ca.txt")
	os.WriteFile(notPEM, []byte("no certificate here"), 0o600)
	// A CA file that parses: any PEM certificate will do for loading.
	os.WriteFile(ca, []byte(testCAPEM), 0o600)
	const head = "mode: development\nkafka:\n  brokers: [127.0.0.1:9093]\n  topic: activity\n"
	good := head + "  tls: {enabled: true, ca_file: " + ca + "}\n" +
		"  sasl: {mechanism: SCRAM-SHA-512, username: cohortline, password_file: " + pwFile + "}\n" +
		"clickhouse:\n  addr: [127.0.0.1:9440]\n  username: writer\n  password_env: CH_PW\n  tls: {enabled: true, ca_file: " + ca + ", server_name: ch.internal}\n"
	env := envOf(map[string]string{"CH_PW": "env-pw"})
	cfg, err := configfile.Parse([]byte(good), env)
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.File.Kafka.Dialer.String(); got != "SASL_SSL SCRAM-SHA-512" {
		t.Errorf("kafka dialer %q, want SASL_SSL SCRAM-SHA-512", got)
	}
	kd := cfg.File.Kafka.Dialer.KafkaDialer()
	if kd.TLS == nil || kd.SASLMechanism == nil || kd.SASLMechanism.Name() != "SCRAM-SHA-512" || cfg.File.Kafka.Dialer.Transport() == nil {
		t.Errorf("kafka-go dialer %+v, transport %v: want TLS and SCRAM-SHA-512 on both", kd, cfg.File.Kafka.Dialer.Transport())
	}
	if ch := cfg.File.ClickHouse; ch.Password != "env-pw" || !ch.TLS.Enabled || ch.TLS.ServerName != "ch.internal" {
		t.Errorf("clickhouse %+v", ch.LogValue())
	}
	if plain, err := configfile.Parse([]byte(head), env); err != nil || plain.File.Kafka.Dialer != nil || plain.File.Kafka.Dialer.String() != "PLAINTEXT" {
		t.Errorf("no tls or sasl: %v, dialer %v", err, plain.File.Kafka.Dialer)
	}

	for _, c := range []struct {
		name, yaml, want string
	}{
		{"inline SASL password", head + "  sasl: {mechanism: PLAIN, username: u, password: hunter2}\n",
			"kafka.sasl.password (line 5): a password is never written in the config file: name an environment variable (password_env) or a file (password_file)"},
		{"inline ClickHouse password", head + "clickhouse:\n  password: hunter2\n",
			"clickhouse.password (line 6): a password is never written in the config file"},
		{"unknown mechanism", head + "  sasl: {mechanism: scram-sha-1, username: u, password_env: PW}\n",
			`kafka.sasl.mechanism (line 5): "scram-sha-1" is none of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512`},
		{"no username", head + "  sasl: {mechanism: SCRAM-SHA-256, password_env: PW}\n", "kafka.sasl.username: required for SCRAM-SHA-256"},
		{"no password source", head + "  sasl: {mechanism: SCRAM-SHA-256, username: u}\n", "kafka.sasl.password_env, kafka.sasl.password_file: SCRAM-SHA-256 needs a password"},
		{"PLAIN in the clear", head + "  sasl: {mechanism: PLAIN, username: u, password_env: PW}\n", "kafka.sasl.mechanism (line 5): PLAIN sends the password in the clear"},
		{"unset password variable", head + "  sasl: {mechanism: SCRAM-SHA-256, username: u, password_env: NOT_SET}\n",
			"kafka.sasl.password_env (line 5): the environment variable NOT_SET is not set or empty"},
		{"missing password file", head + "  sasl: {mechanism: SCRAM-SHA-256, username: u, password_file: /nonexistent/pw}\n",
			"kafka.sasl.password_file (line 5): open /nonexistent/pw: no such file"},
		{"unreadable Kafka CA", head + "  tls: {enabled: true, ca_file: /nonexistent/ca.pem}\n", "kafka.tls.ca_file (line 5): open /nonexistent/ca.pem: no such file"},
		{"Kafka CA not PEM", head + "  tls: {enabled: true, ca_file: " + notPEM + "}\n", "kafka.tls.ca_file (line 5): " + notPEM + " holds no PEM certificate"},
		{"Kafka TLS keys without enabled", head + "  tls: {ca_file: " + ca + "}\n", "kafka.tls.ca_file (line 5): set, but tls.enabled is false"},
		{"Kafka certificate without key", head + "  tls: {enabled: true, cert_file: " + ca + "}\n", "kafka.tls.key_file: required with tls.cert_file"},
		{"Kafka certificate and another key", head + "  tls: {enabled: true, cert_file: " + ca + ", key_file: " + ca + "}\n", "kafka.tls.key_file (line 5): with tls.cert_file " + ca + ": tls:"},
		{"Kafka TLS version", head + "  tls: {enabled: true, min_version: TLS1.2}\n", `kafka.tls.min_version (line 5): "TLS1.2", want 1.2 or 1.3`},
		{"unreadable ClickHouse CA", head + "clickhouse:\n  tls: {enabled: true, ca_file: /nonexistent/ch.pem}\n", "clickhouse.tls.ca_file (line 6): open /nonexistent/ch.pem"},
		{"unknown TLS key", head + "  tls: {enabled: true, ca: x}\n", "kafka.tls.ca (line 5): unknown key (known here: ca_file, cert_file, enabled, insecure_skip_verify, key_file, min_version, server_name)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := configfile.Parse([]byte(c.yaml), envOf(map[string]string{"PW": "env-pw"}))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v\nwant one containing %q", err, c.want)
			}
			if strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "env-pw") {
				t.Errorf("the error carries a password: %v", err)
			}
		})
	}
}

// A self-signed certificate (CN=cohortline test CA, openssl, ten years);
// its key was thrown away: loading a CA bundle needs no key.
const testCAPEM = `-----BEGIN CERTIFICATE-----
MIIBjjCCATWgAwIBAgIUdtsCVzpWlrYfQ25TuptYVL+i9w0wCgYIKoZIzj0EAwIw
HTEbMBkGA1UEAwwSY29ob3J0bGluZSB0ZXN0IENBMB4XDTI2MTIwNDAzNTAyNloX
DTM2MTIwMTAzNTAyNlowHTEbMBkGA1UEAwwSY29ob3J0bGluZSB0ZXN0IENBMFkw
EwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEkCvBs/bSEnARib/nq8OnfozSvgXQAaja
d3Gglx2dGw7QXLPI8G8Gxe0tX27Y5YAE75mwioSYXc5hhpiTn8M4G6NTMFEwHQYD
VR0OBBYEFJ55EvzlLIC/6/KLHuv39hChKUgwMB8GA1UdIwQYMBaAFJ55EvzlLIC/
6/KLHuv39hChKUgwMA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDRwAwRAIg
a9r99KJ3oQwFvQ4ZcfRPfk5Dn24KKoJTLRnU8hs2SDACIHhGwh3ql4+gSRa5h/Mt
xIoisTKnSg+8S5TgQZwsPfCz
-----END CERTIFICATE-----
`

// TestInsecureSkipVerifyIsLoud: insecure_skip_verify needs enabled: true,
// and a config that sets it is warned about at start, for each connection.
func TestInsecureSkipVerifyIsLoud(t *testing.T) {
	const yaml = "mode: development\nkafka:\n  brokers: [127.0.0.1:9093]\n  topic: activity\n  tls: {enabled: true, insecure_skip_verify: true}\n" +
		"clickhouse:\n  tls: {enabled: true, insecure_skip_verify: true}\n"
	cfg, err := configfile.Parse([]byte(yaml), envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	var logs strings.Builder
	cfg.File.WarnInsecure(slog.New(slog.NewTextHandler(&logs, nil)))
	for _, want := range []string{"level=WARN msg=\"kafka.tls.insecure_skip_verify is set", "level=WARN msg=\"clickhouse.tls.insecure_skip_verify is set"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("no warning %q in:\n%s", want, logs.String())
		}
	}
	logs.Reset()
	plain, _ := configfile.Parse([]byte("mode: development\nkafka: {brokers: [a:1], topic: t, tls: {enabled: true}}\n"), envOf(nil))
	plain.File.WarnInsecure(slog.New(slog.NewTextHandler(&logs, nil)))
	if logs.Len() != 0 {
		t.Errorf("a verified TLS config was warned about: %s", logs.String())
	}
}
