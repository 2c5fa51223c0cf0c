package clickhouse

import (
	"fmt"
	"os"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/cohortline/cohortline/schemas"
)

// TestChDB runs every statement cohortline sends to ClickHouse on a
// current release: chDB (pip package chdb-core, 26.x, in-process), which
// `deploy/dev/up chdb` installs and make test runs. The product's own
// code sends them: a Client whose connection is chdbConn runs migrate
// (every migration as rendered for one server), the flushes and their
// reads, backfill commits, the ledger, published releases, the lease,
// publishing, republish's partition swap (a day with rows, and a day left
// empty), retention, the lookup table cohort_latest (every way publish,
// republish, backfill, a crash repair and retention maintain it) and the
// demo's top cohorts, checked as the 18.16
// integration tests check them (the same scenario functions). Then the
// README cookbook's recipes, deploy/clickhouse/targeter.sql, the cluster
// mode's DDL and the demo's printed queries (chdb_sql_test.go).
//
// It logs every statement it ran, by the product method that sent it,
// and their count; COHORTLINE_CHDB_REPORT names a file for the same list.
// It fails when an exported method of Client, Writer or Lease that sends
// SQL was not run here: a new one must be added.
func TestChDB(t *testing.T) {
	conn := newChdbConn(t)
	t.Logf("chDB: ClickHouse %s", conn.db.Version)
	run := func(name string, f func(t *testing.T)) {
		conn.setStep(name)
		t.Run(name, f)
	}
	run("migrate", func(t *testing.T) { chdbMigrate(t, conn) })
	run("partials", func(t *testing.T) { chdbPartials(t, chdbMigrated(t, conn, "partials")) })
	run("ledger", func(t *testing.T) { chdbLedger(t, chdbMigrated(t, conn, "ledger")) })
	run("lease", func(t *testing.T) { chdbLease(t, chdbMigrated(t, conn, "lease")) })
	run("feature-noise", func(t *testing.T) { featureNoiseScenario(t, chdbMigrated(t, conn, "noise")) })
	run("enrichment", func(t *testing.T) { chdbEnrichment(t, chdbMigrated(t, conn, "enrichment")) })
	run("republish", func(t *testing.T) { replaceScenario(t, chdbMigrated(t, conn, "republish")) })
	run("republish-empty-day", func(t *testing.T) { emptyDayScenario(t, chdbMigrated(t, conn, "emptyday")) })
	run("top-cohorts", func(t *testing.T) { topCohortsScenario(t, chdbMigrated(t, conn, "top")) })
	run("retention", func(t *testing.T) { chdbRetention(t, chdbMigrated(t, conn, "retention")) })
	run("latest", func(t *testing.T) { latestScenario(t, chdbMigrated(t, conn, "latest")) })
	run("cookbook", func(t *testing.T) {
		c := chdbMigrated(t, conn, "cookbook")
		cookbookScenario(t, c, c, func(name string) { conn.setStep("cookbook " + name) })
	})
	run("targeter.sql", func(t *testing.T) { chdbTargeterSQL(t, conn) })
	run("cluster-ddl", func(t *testing.T) { chdbClusterDDL(t, conn) })
	run("demo-queries", func(t *testing.T) { chdbDemoQueries(t, chdbMigrated(t, conn, "demo")) })
	run("drop", func(t *testing.T) {
		c := chdbMigrated(t, conn, "drop")
		for range 2 {
			if err := c.DropDatabases(t.Context()); err != nil {
				t.Fatal(err)
			}
		}
	})
	ran := conn.statements()
	chdbReport(t, conn.db.Version, ran)
	chdbCoverage(t, ran)
}

// chdbMigrated is a migrated Client on conn, of databases named after name
// (letters and digits only).
func chdbMigrated(t *testing.T, conn *chdbConn, name string) *Client {
	t.Helper()
	c := chdbClient(t, conn, name)
	if _, err := c.Migrate(t.Context()); err != nil {
		t.Fatalf("migrating on chDB: %v", err)
	}
	return c
}

// chdbMigrate: every migration applies, a second migrate applies none,
// and a new published database beside a migrated internal one gets its
// tables (completePublished). Every view answers.
func chdbMigrate(t *testing.T, conn *chdbConn) {
	ctx := t.Context()
	c := chdbClient(t, conn, "migrate")
	ddl, err := schemas.RenderDDL(c.cfg.ddlOptions())
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := c.HasMigrated(ctx); err != nil || ok {
		t.Errorf("HasMigrated before migrate: %t, %v", ok, err)
	}
	applied, err := c.Migrate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := c.HasMigrated(ctx); err != nil || !ok {
		t.Errorf("HasMigrated after migrate: %t, %v", ok, err)
	}
	if len(applied) != len(ddl.Migrations) {
		t.Errorf("first migrate applied %v, want all %d migrations", applied, len(ddl.Migrations))
	}
	if again, err := c.Migrate(ctx); err != nil || len(again) != 0 {
		t.Errorf("second migrate: %v, %v; want nothing applied", again, err)
	}
	second := chdbClient(t, conn, "migrate")
	second.cfg.PublishedDatabase = "clp_migratesecond"
	if got, err := second.Migrate(ctx); err != nil || len(got) != 0 {
		t.Fatalf("migrate of a second published database: %v, %v; want no migration applied", got, err)
	}
	assertTables(t, second, "in a second published database")
	for _, view := range []string{
		c.cfg.Database + ".cohort_partials_current",
		c.cfg.PublishedDatabase + ".cohort_enrichment_current",
		c.cfg.PublishedDatabase + ".cohort_enrichment_latest",
	} {
		if n := queryUint64(t, c, "SELECT count() FROM "+view); n != 0 {
			t.Errorf("%s of fresh tables has %d rows", view, n)
		}
	}
}

// chdbReport logs every statement and the count by product method, and
// writes them to $COHORTLINE_CHDB_REPORT when it is set. A refused
// statement fails the test: none is expected.
func chdbReport(t *testing.T, version string, ran []ranStatement) {
	var b strings.Builder
	byMethod := map[string]int{}
	distinct := map[string]bool{}
	refused := 0
	for i, s := range ran {
		distinct[digits.ReplaceAllString(statementName(s.sql), "N")] = true
		who := s.method
		if who == "" {
			who = "test (" + s.step + ")"
		}
		byMethod[who]++
		status := ""
		if s.err != nil {
			refused++
			status = "  REFUSED: " + firstLine(s.err.Error())
			t.Errorf("chDB refused statement %d, sent by %s:\n%s\n%v", i+1, who, s.sql, s.err)
		}
		if s.rows > 0 {
			status += fmt.Sprintf("  (%d rows)", s.rows)
		}
		fmt.Fprintf(&b, "%4d  %-30s %s%s\n", i+1, who, statementName(s.sql), status)
	}
	names := make([]string, 0, len(byMethod))
	for m := range byMethod {
		names = append(names, m)
	}
	sort.Strings(names)
	var sum strings.Builder
	fmt.Fprintf(&sum, "chDB (ClickHouse %s) ran %d statements (%d distinct, numbers aside), %d refused.\nBy sender:\n",
		version, len(ran), len(distinct), refused)
	for _, m := range names {
		fmt.Fprintf(&sum, "%6d  %s\n", byMethod[m], m)
	}
	report := sum.String() + "Every statement, in order (databases renamed to cohortline and cohortline_published):\n" + b.String()
	t.Log("\n" + report)
	if path := os.Getenv("COHORTLINE_CHDB_REPORT"); path != "" {
		if err := os.WriteFile(path, []byte(report), 0o644); err != nil {
			t.Error(err)
		}
	}
}

var digits = regexp.MustCompile(`\b[0-9]+\b`)

var statementNames = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`\bclp_[a-z0-9]+\b`), "cohortline_published"},
	{regexp.MustCompile(`\bcl_[a-z0-9]+\b`), "cohortline"},
	{regexp.MustCompile(`_[0-9a-f]{16}\b`), "_<random>"},
	{regexp.MustCompile(`\s+`), " "},
}

// statementName is a statement on one line, of its first 150 characters,
// with the test's database names replaced by the defaults.
func statementName(sql string) string {
	for _, r := range statementNames {
		sql = r.re.ReplaceAllString(sql, r.with)
	}
	if len(sql) > 150 {
		sql = sql[:150] + " …"
	}
	return sql
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// sendsNoSQL are the exported methods that never reach the server.
var sendsNoSQL = []string{
	"Client.Close", "Client.PublishedDatabase", "Client.Writer", "Client.PublishStore",
	"Lease.Holder", "Lease.Token", "Writer.Stats",
}

// sentFrom are the methods whose statements another goroutine sends: the
// Writer's group commit (group_commit.go) inserts the partials.
var sentFrom = map[string]string{
	"Writer.WritePartials":         "Writer.sendGroups",
	"Writer.WriteBackfillPartials": "Writer.sendGroups",
}

// chdbCoverage fails for an exported method of Client, Writer or Lease
// that sent no statement here and is not known to send none.
func chdbCoverage(t *testing.T, ran []ranStatement) {
	seen := map[string]bool{}
	for _, s := range ran {
		seen[s.method] = true
	}
	for method, sender := range sentFrom {
		seen[method] = seen[method] || seen[sender]
	}
	for _, typ := range []reflect.Type{reflect.TypeFor[*Client](), reflect.TypeFor[*Writer](), reflect.TypeFor[*Lease]()} {
		for i := range typ.NumMethod() {
			name := typ.Elem().Name() + "." + typ.Method(i).Name
			if !seen[name] && !slices.Contains(sendsNoSQL, name) {
				t.Errorf("%s sent no statement to chDB: call it in TestChDB (or list it in sendsNoSQL if it never reaches the server)", name)
			}
		}
	}
}
