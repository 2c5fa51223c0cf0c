package main

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cohortline/cohortline/deploy/devenv"
)

// The secured connections of the end-to-end test: the dev broker's
// SASL_SSL listener (SCRAM-SHA-512) or its mTLS listener, and the dev
// ClickHouse's secure native port with a password-protected account, the
// passwords from files as a deployment reads mounted secrets.
type secureEnv struct {
	kafka      devenv.SecureKafka
	clickhouse devenv.SecureClickHouse
}

func newSecureEnv(t *testing.T) secureEnv {
	t.Helper()
	return secureEnv{kafka: devenv.KafkaSecure(t), clickhouse: devenv.ClickHouseTLS(t)}
}

func (e secureEnv) saslYAML(user string) string {
	return fmt.Sprintf(`tls: {enabled: true, ca_file: %s}
sasl: {mechanism: SCRAM-SHA-512, username: %s, password_file: %s}`, e.kafka.CAFile, user, e.kafka.SASLPasswordFile)
}

func (e secureEnv) mtlsYAML() string {
	return fmt.Sprintf(`tls: {enabled: true, ca_file: %s, cert_file: %s, key_file: %s, server_name: %s}`,
		e.kafka.CAFile, e.kafka.CertFile, e.kafka.KeyFile, e.kafka.ServerName)
}

func (e secureEnv) clickhouseYAML() string {
	return fmt.Sprintf(`username: %s
password_file: %s
tls: {enabled: true, ca_file: %s, server_name: %s, min_version: "1.2"}`, e.clickhouse.User, e.clickhouse.PasswordFile, e.clickhouse.CAFile, e.clickhouse.ServerName)
}

// kafkaConfigFile writes a config file holding only a kafka section with
// the security lines, for gen --config.
func kafkaConfigFile(t *testing.T, lines string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kafka.yaml")
	writeTestFile(t, path, "kafka:"+sectionLines(lines)+"\n")
	return path
}

// TestRunEndToEndSecured is TestRunEndToEnd over secured connections: gen
// produces through the secured listener, run consumes through it (the
// group, its commits, the own Fetch client, the dead letters) and writes to
// ClickHouse over TLS with a password. Every partial equals the reference,
// every bad record is dead-lettered once, every partition is committed to
// its end, and neither password appears in the logs or /metrics.
func TestRunEndToEndSecured(t *testing.T) {
	e := newSecureEnv(t)
	for _, c := range []struct {
		name, brokers, kafka string
	}{
		{"SASL_SSL SCRAM-SHA-512", e.kafka.SASLSSL, e.saslYAML(e.kafka.SASLUser)},
		{"mTLS", e.kafka.MTLS, e.mtlsYAML()},
	} {
		t.Run(c.name, func(t *testing.T) {
			genKafka := []string{"--kafka", c.brokers, "--config", kafkaConfigFile(t, c.kafka)}
			s := newFaultSetVia(t, "tls", genKafka, "--seed", "25", "--users", "2000", "--events", "30000", "--span", "3h",
				"--late", "0.02", "--duplicates", "0.02", "--bad", "0.02")
			code, out, _ := runCLI(t, "", "validate", "--quiet", s.ndjson)
			if code != exitFailure {
				t.Fatalf("validate: exit %d, want %d", code, exitFailure)
			}
			_, invalid := validateSummary(t, out)
			// topicSize reads 0 until the plaintext listener's metadata has
			// the new topic.
			var produced int64
			if !waitUntil(10*time.Second, func() bool { produced = topicSize(t, s.kafka, s.name); return produced == 30000 }) {
				t.Fatalf("gen produced %d messages through %s, want 30000", produced, c.name)
			}
			config := s.writeConfig(t, "run.yaml", runOptions{
				brokers: c.brokers, kafkaExtra: c.kafka,
				clickhouse: e.clickhouse.Addr, clickhouseExtra: e.clickhouseYAML(),
				publish: "{auto: false}",
			})
			ctx, stop := context.WithCancel(t.Context())
			defer stop()
			var logs syncBuffer
			exit := make(chan int, 1)
			go func() { exit <- run(ctx, []string{"run", "--config", config}, bytes.NewReader(nil), &logs, &logs) }()
			metricsURL := "http://" + waitForLog(t, &logs, "http: serving /metrics, /healthz, /readyz", "addr", exit) + "/metrics"

			got, err := waitForPartials(t, s.client(t, ""), s.want, 120*time.Second, exit)
			if err != nil {
				t.Fatalf("%v\nlogs:\n%s", err, tail(logs.String(), 20))
			}
			var dead, committed int64
			end := topicSize(t, s.kafka, s.name)
			if !waitUntil(30*time.Second, func() bool {
				dead, committed = topicSize(t, s.kafka, s.name+".dlq"), sum(committedOffsets(t, s.kafka, s.name, s.name))
				return dead >= int64(invalid) && committed == end
			}) {
				t.Fatalf("after 30s: %d dead letters (want %d), %d of %d offsets committed", dead, invalid, committed, end)
			}
			_, metrics := httpGet(t, metricsURL)
			stop()
			if code := <-exit; code != exitOK {
				t.Errorf("run exited %d after cancel; logs:\n%s", code, tail(logs.String(), 20))
			}
			if dead != int64(invalid) {
				t.Errorf("%d dead letters, want %d (one per bad record)", dead, invalid)
			}
			for what, text := range map[string]string{"logs": logs.String(), "/metrics": metrics} {
				for _, secret := range []string{devenv.ReadSecret(t, e.kafka.SASLPasswordFile), devenv.ReadSecret(t, e.clickhouse.PasswordFile)} {
					if strings.Contains(text, secret) {
						t.Errorf("%s carry a password", what)
					}
				}
			}
			t.Logf("%d partials equal the reference, %d dead letters, %d offsets committed", len(got), dead, committed)
		})
	}
}
