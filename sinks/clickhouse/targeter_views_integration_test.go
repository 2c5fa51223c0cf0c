package clickhouse

import (
	"fmt"
	"testing"
	"time"
)

// TestTargeterViewsOneLedgeredVersion (issue 12, finding 7): right after a
// republish, before any merge (merges of the table are stopped), the
// targeter's views show one row per (cohort, window), the newest publish,
// and never a row of a release without a ledger row, even a newer one,
// while the table itself holds every version.
func TestTargeterViewsOneLedgeredVersion(t *testing.T) {
	admin, targeter := targeterClients(t)
	ctx := t.Context()
	pub := admin.cfg.PublishedDatabase
	table := pub + ".cohort_enrichment"
	if err := admin.conn.Exec(ctx, "SYSTEM STOP MERGES "+table); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.conn.Exec(ctx, "SYSTEM START MERGES "+table) })

	w0, w1 := window, window.Add(time.Hour)
	first, again := w1.Add(time.Hour), w1.Add(2*time.Hour)
	publishRows(t, admin, []EnrichmentRow{
		enrichment(w0, 1, "c1", 60, first), enrichment(w0, 2, "c2", 61, first), enrichment(w1, 1, "c1", 62, first),
	})
	publishRows(t, admin, []EnrichmentRow{ // the republish of w0
		enrichment(w0, 1, "c1", 70, again), enrichment(w0, 2, "c2", 71, again),
	})
	// By hand, newest of all, with no privacy_ledger row and so none in
	// published_releases: a row that must never be seen.
	stray := []EnrichmentRow{enrichment(w0, 1, "c1", 999, again.Add(time.Hour)), enrichment(w1, 3, "c3", 999, again.Add(time.Hour))}
	if err := admin.WriteEnrichment(ctx, stray); err != nil {
		t.Fatal(err)
	}
	if n, err := count(t, admin, table); err != nil || n != 7 {
		t.Fatalf("%s holds %d rows, %v; want all 7 versions unmerged, or the test proves nothing", table, n, err)
	}

	current := fmt.Sprintf("SELECT cohort_id, toString(window_start), users FROM %s.cohort_enrichment_current ORDER BY cohort_id, window_start", pub)
	got, err := queryText(t, targeter, current)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"1", "2026-11-01 10:00:00", "70"}, {"1", "2026-11-01 11:00:00", "62"}, {"2", "2026-11-01 10:00:00", "71"}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("cohort_enrichment_current as targeter:\n%v\nwant one row per (cohort, window), ledgered, newest:\n%v", got, want)
	}
	latest := fmt.Sprintf("SELECT cohort_id, toString(window_start), users FROM %s.cohort_enrichment_latest ORDER BY cohort_id", pub)
	got, err = queryText(t, targeter, latest)
	if err != nil {
		t.Fatal(err)
	}
	want = [][]string{{"1", "2026-11-01 11:00:00", "62"}, {"2", "2026-11-01 10:00:00", "71"}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("cohort_enrichment_latest as targeter:\n%v\nwant\n%v", got, want)
	}
	rows, err := targeter.ReadEnrichment(ctx, []uint64{1, 2, 3}, w0)
	if err != nil || len(rows) != 2 || rows[0].Users != 70 || rows[1].Users != 71 {
		t.Errorf("ReadEnrichment(w0) as targeter: %+v, %v; want cohorts 1 and 2 at 70 and 71", rows, err)
	}
}

// TestTargeterViewCannotReadTheLedger records why published_releases
// exists: on 18.16 a view in the published database that reads the
// internal database's ledger is refused to the targeter, whose account is
// granted the published database only.
func TestTargeterViewCannotReadTheLedger(t *testing.T) {
	admin, targeter := targeterClients(t)
	view := admin.cfg.PublishedDatabase + ".ledger_probe"
	if err := admin.conn.Exec(t.Context(), "CREATE VIEW "+view+" AS SELECT window_start, release FROM "+admin.cfg.Database+".privacy_ledger"); err != nil {
		t.Fatal(err)
	}
	wantException(t, targeter, "SELECT count() FROM "+view, nil, codeDatabaseAccessDenied, "Access denied to database "+admin.cfg.Database)
}
