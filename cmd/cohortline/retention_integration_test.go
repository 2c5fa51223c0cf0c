package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cohortline/cohortline/deploy/devenv"
)

// TestRetentionCommand: three days of flushes and published rows;
// --dry-run lists the two before the cutoff and drops nothing, the real
// run drops exactly those (the ledger stays), and a second run finds
// nothing.
func TestRetentionCommand(t *testing.T) {
	addr := devenv.ClickHouse(t)
	db := fmt.Sprintf("it_retention_%d", time.Now().UnixNano())
	config := writeConfig(t, fmt.Sprintf("mode: development\nkafka: {brokers: [127.0.0.1:1], topic: t}\n"+
		"cohorts: {window: 1h, feature_set: 1}\n"+
		"clickhouse: {addr: [%s], database: %s, published_database: %s_published}\n", addr, db, db))
	if code, out, errOut := runCLI(t, "", "migrate", "--clickhouse", addr, "--database", db, "--published-database", db+"_published"); code != exitOK {
		t.Fatalf("migrate: exit %d\n%s%s", code, out, errOut)
	}
	conn := openConn(t, addr)
	t.Cleanup(func() {
		for _, d := range []string{db, db + "_published"} {
			conn.Exec(t.Context(), "DROP DATABASE IF EXISTS "+d)
		}
	})
	days := []string{"2026-10-30", "2026-10-31", "2026-11-01"}
	for _, d := range days {
		ws := "toDateTime('" + d + " 10:00:00', 'UTC')"
		for _, stmt := range []string{
			"INSERT INTO " + db + ".window_progress (window_start, window_end, topic, partition, flush_version, rows, first_offset, last_offset, watermark, flushed_at) SELECT " + ws + ", " + ws + " + 3600, 't', 0, 1, 1, 0, 0, 0, now()",
			"INSERT INTO " + db + ".cohort_partials (window_start, window_end, topic, partition, flush_version, cohort_id, cohort_key, feature_set, users, events, values) SELECT " + ws + ", " + ws + " + 3600, 't', 0, 1, 1, 'country=BR|lang=pt|age=25-34|platform=android', 1, 1, 1, [1]",
			"INSERT INTO " + db + "_published.cohort_enrichment (window_start, window_end, cohort_id, cohort_key, level, users, features, feature_set, release, published_at) SELECT " + ws + ", " + ws + " + 3600, 1, 'country=BR|lang=*|age=*|platform=*', 'lang,age,platform', 60, [1.5], 1, 'r1', now()",
		} {
			if err := conn.Exec(t.Context(), stmt); err != nil {
				t.Fatalf("%s: %v", stmt, err)
			}
		}
	}
	count := func(table string) (n uint64) {
		t.Helper()
		if err := conn.QueryRow(t.Context(), "SELECT count() FROM "+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	tables := []string{db + ".window_progress", db + ".cohort_partials", db + "_published.cohort_enrichment"}
	var want []string
	for _, table := range tables {
		for _, d := range []string{"20261030", "20261031"} {
			want = append(want, table+" "+d)
		}
	}

	code, out, errOut := runCLI(t, "", "retention", "--config", config, "--before", "2026-11-01", "--dry-run")
	if code != exitOK || out != "would drop "+strings.Join(want, "\nwould drop ")+"\n" {
		t.Fatalf("retention --dry-run: exit %d\n%s%s\nwant every one of %v", code, out, errOut, want)
	}
	for _, table := range tables {
		if n := count(table); n != 3 {
			t.Errorf("after the dry run %s holds %d rows, want 3", table, n)
		}
	}
	code, out, errOut = runCLI(t, "", "retention", "--config", config, "--before", "2026-11-01")
	if code != exitOK || out != "dropped "+strings.Join(want, "\ndropped ")+"\n" {
		t.Fatalf("retention: exit %d\n%s%s", code, out, errOut)
	}
	for _, table := range tables {
		if n := count(table); n != 1 {
			t.Errorf("after retention %s holds %d rows, want 1 (2026-11-01)", table, n)
		}
	}
	if code, out, errOut := runCLI(t, "", "retention", "--config", config, "--before", "2026-11-01"); code != exitOK || !strings.HasPrefix(out, "nothing before ") {
		t.Errorf("retention again: exit %d\n%s%s; want nothing to drop", code, out, errOut)
	}
}
