package clickhouse

import (
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cohortline/cohortline/schemas"
)

// The SQL of TestChDB that no Client method sends: an administrator's
// script, the cluster mode's DDL, the demo's printed queries. (The
// cookbook's recipes run in cookbookScenario.)

// grantOn finds the object of a GRANT SELECT ON db.t TO … statement.
var grantOn = regexp.MustCompile(`^GRANT SELECT ON ([A-Za-z0-9_]+)\.([A-Za-z0-9_]+) TO `)

// chdbTargeterSQL: deploy/clickhouse/targeter.sql, the targeter's account
// on current ClickHouse. chDB has no access storage (CREATE USER fails
// there with code 514, whatever the statement), so each statement is
// parsed by the current parser (EXPLAIN AST) and each GRANT's object must
// exist after migrate, under the published database's name.
func chdbTargeterSQL(t *testing.T, conn *chdbConn) {
	data, err := os.ReadFile("../../deploy/clickhouse/targeter.sql")
	if err != nil {
		t.Fatal(err)
	}
	c := chdbMigrated(t, conn, "targeter")
	stmts := schemas.SplitStatements(string(data))
	grants := 0
	for _, stmt := range stmts {
		if err := conn.Exec(t.Context(), "EXPLAIN AST "+stmt); err != nil {
			t.Errorf("targeter.sql does not parse on ClickHouse %s: %v\n%s", conn.db.Version, err, stmt)
		}
		m := grantOn.FindStringSubmatch(stmt)
		if m == nil {
			continue
		}
		grants++
		if m[1] != schemas.DefaultPublishedDatabase {
			t.Errorf("targeter.sql grants on database %s, not the published one: %s", m[1], stmt)
		}
		var n uint64
		err := conn.QueryRow(t.Context(), "SELECT count() FROM system.tables WHERE database = ? AND name = ?", c.cfg.PublishedDatabase, m[2]).Scan(&n)
		if err != nil || n != 1 {
			t.Errorf("targeter.sql grants SELECT on %s, which migrate does not create (%v)", m[2], err)
		}
	}
	if len(stmts) < 2 || grants == 0 {
		t.Errorf("targeter.sql has %d statements and %d grants: is it still the account's script?", len(stmts), grants)
	}
}

// chdbClusterDDL: chDB has no cluster (ON CLUSTER names one from the
// servers' remote_servers), so the cluster mode's DDL is parsed, not run,
// by the current parser. One server's DDL runs in every other step.
func chdbClusterDDL(t *testing.T, conn *chdbConn) {
	ddl, err := schemas.RenderDDL(schemas.DDLOptions{Cluster: "analytics"})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, m := range append([]schemas.Migration{ddl.Bootstrap}, ddl.Migrations...) {
		for i, stmt := range m.Statements {
			n++
			if err := conn.Exec(t.Context(), "EXPLAIN AST "+stmt); err != nil {
				t.Errorf("%s statement %d (cluster mode) does not parse on ClickHouse %s: %v\n%s", m.Name, i+1, conn.db.Version, err, stmt)
			}
		}
	}
	t.Logf("parsed %d statements of the cluster mode's DDL", n)
}

// demoQueries are the two queries `cohortline demo` prints for its top
// cohorts (cmd/cohortline/demo_report.go, writeQueries), in their shape:
// kept here by hand because a test cannot import package main. Change
// both together.
const demoQueries = `SELECT cohort_key, window_start, users, features
FROM %[1]s.cohort_enrichment_latest
WHERE cohort_id IN (
    cityHash64('a'),
    cityHash64('b')
)
ORDER BY users DESC;
SELECT cohort_key, level, users,
    round(features[1]) AS ` + "`users.x`" + `,
    round(features[2]) AS ` + "`hist.events.1`" + `
FROM %[1]s.cohort_enrichment_current
WHERE window_start = toDateTime('%[2]s')
ORDER BY users DESC, cohort_key
LIMIT 10;`

// chdbDemoQueries: the demo's top cohorts (TopCohorts) and the SQL it
// prints for them, over rows published twice.
func chdbDemoQueries(t *testing.T, c *Client) {
	w1 := window.Add(time.Hour)
	a, b := enrichment(window, cityHash(t, c, "a"), "a", 60, w1), enrichment(window, cityHash(t, c, "b"), "b", 70, w1)
	republished := a
	republished.Users, republished.PublishedAt = 65, w1.Add(time.Hour)
	publishRows(t, c, []EnrichmentRow{a, b})
	publishRows(t, c, []EnrichmentRow{republished})
	top, err := c.TopCohorts(t.Context(), 10)
	if err != nil || len(top) != 2 || top[0].CohortKey != "b" || top[1].Users != 65 {
		t.Errorf("TopCohorts = %+v, %v; want b, then a's republish", top, err)
	}
	q := strings.NewReplacer("%[1]s", c.cfg.PublishedDatabase, "%[2]s", window.Format(time.DateTime)).Replace(demoQueries)
	want := []int{2, 2}
	for i, stmt := range schemas.SplitStatements(q) {
		got, err := queryText(t, c, stmt)
		if err != nil || len(got) != want[i] {
			t.Errorf("demo query %d: %q, %v; want %d rows\n%s", i+1, got, err, want[i], stmt)
		}
	}
}
