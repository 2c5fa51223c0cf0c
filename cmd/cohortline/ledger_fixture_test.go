package main

import (
	"cmp"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/cohortline/cohortline/cmd/internal/configfile"
	"github.com/cohortline/cohortline/deploy/devenv"
	"github.com/cohortline/cohortline/schemas/synth"
)

// The ledger tests' data: four hourly windows of partials, made by a
// backfill from a generated archive (no Kafka needed), which the tests
// then publish in different ways.
var (
	ledgerGen  = []string{"--seed", "12", "--users", "3000", "--events", "40000", "--span", "3h2m"}
	ledgerFrom = synth.DefaultStart
	ledgerTo   = synth.DefaultStart.Add(4 * time.Hour)
)

const (
	secretA = "ledger test secret A, thirty-two bytes or more"
	secretB = "ledger test secret B, thirty-two bytes or more"
)

// ledgerSet is one internal database with committed partials, on the
// real ClickHouse.
type ledgerSet struct {
	addr, db, topic, dir string
	conn                 driver.Conn
}

// newLedgerSet generates the archive and backfills it into a fresh
// database, without publishing.
func newLedgerSet(t *testing.T) *ledgerSet {
	t.Helper()
	s := &ledgerSet{addr: devenv.ClickHouse(t), dir: t.TempDir()}
	suffix := time.Now().UnixNano() % 1e12
	s.db, s.topic = fmt.Sprintf("it_ledger_%d", suffix), fmt.Sprintf("it-ledger-%d", suffix)
	t.Cleanup(func() { dropDatabases(t, s.addr, s.db, s.db+"_published", s.db+"_other") })
	conn, err := ch.Open(&ch.Options{Addr: []string{s.addr}, Protocol: ch.Native})
	if err != nil {
		t.Fatal(err)
	}
	s.conn = conn
	t.Cleanup(func() { conn.Close() })

	archive := filepath.Join(s.dir, "events.ndjson")
	if code, _, errOut := runCLI(t, "", append(append([]string{"gen"}, ledgerGen...), "--out", archive)...); code != exitOK {
		t.Fatalf("gen: exit %d: %s", code, errOut)
	}
	cfg := s.config(t, "backfill.yaml", ledgerConfig{})
	code, out, errOut := runCLI(t, "", "backfill", "--config", cfg, "--from", ledgerFrom.Format(time.RFC3339), "--to", ledgerTo.Format(time.RFC3339),
		"--files", archive, "--partitions", "2", "--no-publish", "--checkpoint", filepath.Join(s.dir, "backfill.checkpoint.json"))
	if code != exitOK {
		t.Fatalf("backfill: exit %d\n%s%s", code, out, errOut)
	}
	return s
}

// ledgerConfig is what a ledger test sets in its config file.
type ledgerConfig struct {
	mode      string // default development
	published string // published_database; default the database + "_published"
	publish   string // the publish section as a YAML flow mapping; default {auto: false}
	cohorts   string // more keys of the cohorts section, e.g. ", k: 100"
}

// config writes a config file over the set's database.
func (s *ledgerSet) config(t *testing.T, file string, o ledgerConfig) string {
	t.Helper()
	o.mode = cmp.Or(o.mode, configfile.ModeDevelopment)
	o.published = cmp.Or(o.published, s.db+"_published")
	o.publish = cmp.Or(o.publish, "{auto: false}")
	path := filepath.Join(s.dir, file)
	writeTestFile(t, path, fmt.Sprintf(`mode: %s
kafka: {brokers: ["127.0.0.1:1"], topic: %s}
cohorts: {window: 1h, allowed_lateness: 5m, feature_set: 1%s}
clickhouse:
  addr: [%s]
  database: %s
  published_database: %s
  retry: {max_attempts: 3, initial_backoff: 10ms, max_backoff: 50ms}
http: {listen: ""}
publish: %s
`, o.mode, s.topic, o.cohorts, s.addr, s.db, o.published, o.publish))
	return path
}

// publish runs `cohortline publish` over the set's range with config,
// under secret ("" for none), and returns its exit code and output.
func (s *ledgerSet) publish(t *testing.T, config, secret string) (int, string) {
	t.Helper()
	t.Setenv(configfile.EnvSecret, secret)
	code, out, errOut := runCLI(t, "", "publish", "--config", config, "--from", ledgerFrom.Format(time.RFC3339), "--to", ledgerTo.Format(time.RFC3339))
	return code, out + errOut
}

// ledgerRow is the part of a privacy_ledger row the tests check.
type ledgerRow struct {
	window                 time.Time
	keyID, mode, digest    string
	spent, delta, relDelta float64
	noise                  uint8
	token                  uint64
	rows                   uint64
	release                string
	releasedAt             time.Time
}

// ledger reads the set's privacy_ledger, oldest release first.
func (s *ledgerSet) ledger(t *testing.T) []ledgerRow {
	t.Helper()
	rows, err := s.conn.Query(t.Context(), `SELECT window_start, key_id, mode, input_digest, epsilon_spent, delta, release_delta, noise,
		lease_token, rows_published, release, released_at FROM `+s.db+`.privacy_ledger ORDER BY released_at, lease_token, window_start`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []ledgerRow
	for rows.Next() {
		var r ledgerRow
		if err := rows.Scan(&r.window, &r.keyID, &r.mode, &r.digest, &r.spent, &r.delta, &r.relDelta, &r.noise, &r.token, &r.rows, &r.release, &r.releasedAt); err != nil {
			t.Fatal(err)
		}
		r.window = r.window.UTC()
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// current renders what the targeter's view cohort_enrichment_current of
// published shows, a line per (cohort, window), and fails the test when
// a (cohort, window) shows twice.
func (s *ledgerSet) current(t *testing.T, published string) []string {
	t.Helper()
	rows, err := s.conn.Query(t.Context(), `SELECT window_start, cohort_key, users, toString(features), release FROM `+published+
		`.cohort_enrichment_current ORDER BY window_start, cohort_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	seen := map[string]bool{}
	for rows.Next() {
		var ws time.Time
		var key, features, release string
		var users uint64
		if err := rows.Scan(&ws, &key, &users, &features, &release); err != nil {
			t.Fatal(err)
		}
		id := ws.UTC().Format(time.RFC3339) + " " + key
		if seen[id] {
			t.Errorf("%s.cohort_enrichment_current shows %s twice", published, id)
		}
		seen[id] = true
		out = append(out, fmt.Sprintf("%s users=%d %s %s", id, users, features, release))
	}
	return out
}

// count returns SELECT count() FROM from.
func (s *ledgerSet) count(t *testing.T, from string) uint64 {
	t.Helper()
	var n uint64
	if err := s.conn.QueryRow(t.Context(), "SELECT count() FROM "+from).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
