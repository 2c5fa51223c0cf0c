package main

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/cohortline/cohortline/deploy/devenv"
	"github.com/cohortline/cohortline/schemas/synth"
)

// The secured connections of the end-to-end test: the dev broker's
// SASL_SSL listener (SCRAM-SHA-512) or its mTLS listener, and the dev
// ClickHouse's secure native port with a password-protected account, the
// passwords from files as a deployment reads mounted secrets.
type secureEnv struct {
	kafka      devenv.SecureKafka
	clickhouse devenv.SecureClickHouse
}

func newSecureEnv(t testing.TB) secureEnv {
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
			if c.brokers != e.kafka.SASLSSL {
				return // publish and backfill once: their connections are the same for mTLS
			}
			// The publisher over ClickHouse's TLS port, then a backfill
			// from Kafka over SASL_SSL (offset lookups by time, the Fetch
			// client) that must give streaming's partials back.
			from, to := synth.DefaultStart, synth.DefaultStart.Add(3*time.Hour)
			if code, out, errOut := runCLI(t, "", "publish", "--config", config, "--from", from.Format(time.RFC3339), "--to", to.Format(time.RFC3339)); code != exitOK {
				t.Fatalf("publish over TLS: exit %d\n%s%s", code, out, errOut)
			}
			streamed, published := partitionPartials(t, s), publishedRows(t, s)
			if len(published) == 0 {
				t.Fatal("publish over TLS published no rows")
			}
			// lookup reads the targeter's views over TLS with --config's
			// clickhouse section; any attributes end in a published
			// generalization.
			if code, out, errOut := runCLI(t, "", "lookup", "--config", config, "--country", "BR", "--lang", "pt", "--age", "25-34", "--platform", "android"); code != exitOK || !strings.Contains(out, "users") {
				t.Fatalf("lookup over TLS: exit %d\n%s%s", code, out, errOut)
			}
			backfill := []string{"backfill", "--config", config, "--from", from.Format(time.RFC3339), "--to", to.Format(time.RFC3339),
				"--checkpoint", filepath.Join(s.dir, "tls.checkpoint.json")}
			if code, out, errOut := runCLI(t, "", backfill...); code != exitOK {
				t.Fatalf("backfill over SASL_SSL: exit %d\n%s%s", code, out, errOut)
			}
			if diff := diffLines(partitionPartials(t, s), streamed); diff != "" {
				t.Errorf("backfill over SASL_SSL: partials differ from streaming's:\n%s", diff)
			}
			if diff := diffLines(publishedRows(t, s), published); diff != "" {
				t.Errorf("backfill over SASL_SSL: published rows differ from streaming's:\n%s", diff)
			}
			t.Logf("published %d rows and looked one up over TLS; a backfill over SASL_SSL gave the same partials and rows", len(published))
		})
	}
}

// TestRunRefusesBadSecurity: a run whose connection the server refuses
// stops at start, within the dial timeout, with an error that names the
// connection and says why, and writes nothing: no partials, no dead
// letters, no commits.
func TestRunRefusesBadSecurity(t *testing.T) {
	e := newSecureEnv(t)
	s := newFaultSet(t, "tlsrefuse", "--seed", "26", "--users", "200", "--events", "2000", "--span", "1h", "--bad", "0.05")
	wrongPassword := filepath.Join(t.TempDir(), "wrong.password")
	writeTestFile(t, wrongPassword, "not-the-password\n")
	wrongName := strings.Replace(e.saslYAML(e.kafka.SASLUser), "tls: {enabled: true,", "tls: {enabled: true, server_name: kafka.example.com,", 1)
	for _, c := range []struct {
		name, brokers, kafka string
		want                 []string // in the error, besides the address
	}{
		{"plaintext client on the TLS listener", e.kafka.SASLSSL, "", []string{"PLAINTEXT"}},
		{"wrong password", e.kafka.SASLSSL, strings.Replace(e.saslYAML(e.kafka.SASLUser), e.kafka.SASLPasswordFile, wrongPassword, 1),
			[]string{"SASL_SSL SCRAM-SHA-512", "Authentication failed"}},
		{"unknown user", e.kafka.SASLSSL, e.saslYAML("nobody"), []string{"SASL_SSL SCRAM-SHA-512", "Authentication failed"}},
		{"certificate for another name", e.kafka.SASLSSL, wrongName, []string{"SASL_SSL SCRAM-SHA-512", "certificate is valid for localhost, not kafka.example.com"}},
		{"no client certificate on the mTLS listener", e.kafka.MTLS, fmt.Sprintf("tls: {enabled: true, ca_file: %s}", e.kafka.CAFile), []string{"SSL"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			group := fmt.Sprintf("%s-%d", s.name, time.Now().UnixNano())
			config := s.writeConfig(t, "run.yaml", runOptions{brokers: c.brokers, kafkaExtra: c.kafka, group: group})
			var logs syncBuffer
			start := time.Now()
			code := run(t.Context(), []string{"run", "--config", config}, bytes.NewReader(nil), &logs, &logs)
			took := time.Since(start)
			out := logs.String()
			if code != exitFailure {
				t.Fatalf("run exited %d, want %d; logs:\n%s", code, exitFailure, tail(out, 10))
			}
			// The dial timeout is 10s; ClickHouse's migrate comes first.
			if took > 25*time.Second {
				t.Errorf("refused after %s", took.Round(time.Millisecond))
			}
			last := tail(out, 1)
			for _, w := range append([]string{c.brokers}, c.want...) {
				if !strings.Contains(last, w) {
					t.Errorf("the error does not say %q:\n%s", w, last)
				}
			}
			if pw := devenv.ReadSecret(t, e.kafka.SASLPasswordFile); strings.Contains(out, pw) {
				t.Error("the logs carry the password")
			}
			if n := topicSize(t, s.kafka, s.name+".dlq"); n != 0 {
				t.Errorf("%d dead letters written", n)
			}
			if n := sum(committedOffsets(t, s.kafka, group, s.name)); n > 0 {
				t.Errorf("%d offsets committed", n)
			}
			if n := s.flushes(t, ""); n != 0 {
				t.Errorf("%d flushes written to ClickHouse", n)
			}
			t.Logf("refused in %s: %s", took.Round(time.Millisecond), last)
		})
	}
}

// TestMigrateOverTLS: migrate --config reaches the secure native port with
// the password from a file; a plaintext client on that port, a wrong
// password and a certificate for another name are refused, naming the
// server and how it was dialed, and create nothing.
func TestMigrateOverTLS(t *testing.T) {
	e := newSecureEnv(t)
	plainAddr := devenv.ClickHouse(t)
	wrongPassword := filepath.Join(t.TempDir(), "wrong.password")
	writeTestFile(t, wrongPassword, "not-the-password\n")
	good := e.clickhouseYAML()
	for _, c := range []struct {
		name, clickhouse string
		want             []string // in the error; nil: migrate succeeds
	}{
		{"TLS with a password file", good, nil},
		{"plaintext client on the TLS port", fmt.Sprintf("username: %s\npassword_file: %s", e.clickhouse.User, e.clickhouse.PasswordFile), []string{"in plaintext as " + e.clickhouse.User}},
		{"wrong password", strings.Replace(good, e.clickhouse.PasswordFile, wrongPassword, 1), []string{"over TLS as " + e.clickhouse.User, "password"}},
		{"certificate for another name", strings.Replace(good, "server_name: "+e.clickhouse.ServerName, "server_name: ch.example.com", 1),
			[]string{"over TLS", "certificate is valid for localhost, not ch.example.com"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			db := fmt.Sprintf("it_tlsmigrate_%d", time.Now().UnixNano())
			t.Cleanup(func() { dropDatabases(t, plainAddr, db, db+"_published") })
			config := filepath.Join(t.TempDir(), "ch.yaml")
			writeTestFile(t, config, fmt.Sprintf("clickhouse:\n  addr: [%s]\n  database: %s\n  published_database: %s_published%s\n",
				e.clickhouse.Addr, db, db, sectionLines(c.clickhouse)))
			start := time.Now()
			code, out, errOut := runCLI(t, "", "migrate", "--config", config)
			took := time.Since(start)
			if c.want == nil {
				if code != exitOK || !strings.Contains(out, "applied") {
					t.Fatalf("migrate over TLS: exit %d: %s%s", code, out, errOut)
				}
				if !databaseExists(t, plainAddr, db) {
					t.Fatalf("migrate over TLS said %q, but %s does not exist", tail(out, 1), db)
				}
				return
			}
			if code != exitFailure {
				t.Fatalf("migrate exited %d, want %d: %s%s", code, exitFailure, out, errOut)
			}
			for _, w := range append([]string{e.clickhouse.Addr}, c.want...) {
				if !strings.Contains(errOut, w) {
					t.Errorf("the error does not say %q: %s", w, errOut)
				}
			}
			if strings.Contains(errOut, devenv.ReadSecret(t, e.clickhouse.PasswordFile)) {
				t.Error("the error carries the password")
			}
			if took > 15*time.Second {
				t.Errorf("refused after %s; the dial timeout is 5s", took.Round(time.Millisecond))
			}
			if databaseExists(t, plainAddr, db) {
				t.Errorf("the refused migrate created %s", db)
			}
			t.Logf("refused in %s: %s", took.Round(time.Millisecond), strings.TrimSpace(errOut))
		})
	}
}

// databaseExists asks the plaintext port whether db exists.
func databaseExists(t *testing.T, addr, db string) bool {
	t.Helper()
	conn, err := ch.Open(&ch.Options{Addr: []string{addr}, Protocol: ch.Native})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var n uint64
	if err := conn.QueryRow(t.Context(), "SELECT count() FROM system.databases WHERE name = ?", db).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n > 0
}

// TestDemoOverSASLSSL: demo --kafka with --config runs the whole product
// over the broker's SASL_SSL listener and ClickHouse's TLS port.
func TestDemoOverSASLSSL(t *testing.T) {
	e := newSecureEnv(t)
	config := filepath.Join(t.TempDir(), "demo.yaml")
	writeTestFile(t, config, "kafka:"+sectionLines(e.saslYAML(e.kafka.SASLUser))+"\nclickhouse:"+sectionLines(e.clickhouseYAML())+"\n")
	db := fmt.Sprintf("it_tls_demo_%d", time.Now().UnixNano())
	t.Cleanup(func() { dropDatabases(t, devenv.ClickHouse(t), db, db+"_published") })
	code, out, errOut := runCLI(t, "", "demo", "--kafka", e.kafka.SASLSSL, "--config", config, "--clickhouse", e.clickhouse.Addr,
		"--users", "2000", "--events", "20000", "--database", db)
	if code != exitOK {
		t.Fatalf("demo over SASL_SSL and TLS: exit %d\n%s", code, tail(errOut, 10))
	}
	for _, want := range []string{"broker at " + e.kafka.SASLSSL, "published", "dead-lettered"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("the demo's progress does not say %q:\n%s", want, errOut)
		}
	}
	if !strings.Contains(out, "cohort_key") {
		t.Errorf("the demo printed no table:\n%s", out)
	}
}
