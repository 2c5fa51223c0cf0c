package clickhouse

import (
	"fmt"
	"testing"
	"time"
)

// TestMigrate0012AdoptsLedgeredReleases: a database of before 0010 keeps
// what it published visible through the new views: 0012 records in
// published_releases every ledgered release whose rows are in the
// published database (mode unknown, or test for a release without
// noise), none whose rows are not, and old ledger rows read no key id
// and their configured delta.
func TestMigrate0012AdoptsLedgeredReleases(t *testing.T) {
	cfg := testConfig(t)
	c := openClient(t, cfg)
	ctx := t.Context()
	m0010 := migrateBefore(t, c, 10)
	if m0010.Name != "0010_privacy_ledger_key_mode.sql" {
		t.Fatalf("migration 10 is %q", m0010.Name)
	}
	w0, w1, w2 := window, window.Add(time.Hour), window.Add(2*time.Hour)
	at := w2.Add(time.Hour)
	batch, err := c.conn.PrepareBatch(ctx, "INSERT INTO "+cfg.Database+".privacy_ledger (window_start, window_end, release, epsilon, delta, "+
		"bounds, spec_hash, code_version, input_digest, rows_published, rows_suppressed, republish, epsilon_spent, noise, released_at)")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []struct {
		ws    time.Time
		noise uint8
	}{{w0, 1}, {w1, 0}, {w2, 1}} { // w2's rows went to another published database
		if err := batch.Append(r.ws, r.ws.Add(time.Hour), "r1", 4.0, 1e-6, "events=100", "h", "v0", "d", uint64(1), uint64(0), uint8(0), 4.0, r.noise, at); err != nil {
			t.Fatal(err)
		}
	}
	if err := batch.Send(); err != nil {
		t.Fatal(err)
	}
	if err := c.WriteEnrichment(ctx, []EnrichmentRow{enrichment(w0, 1, "c1", 60, at), enrichment(w1, 1, "c1", 61, at)}); err != nil {
		t.Fatal(err)
	}

	if _, err := c.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := queryText(t, c, fmt.Sprintf("SELECT toString(window_start), release, toString(published_at), mode FROM %s.published_releases ORDER BY window_start", cfg.PublishedDatabase))
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"2026-11-01 10:00:00", "r1", "2026-11-01 13:00:00", ""}, {"2026-11-01 11:00:00", "r1", "2026-11-01 13:00:00", "test"}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("published_releases after 0012:\n%q\nwant\n%q", got, want)
	}
	if rows, err := c.ReadEnrichment(ctx, []uint64{1}, time.Time{}); err != nil || len(rows) != 1 || rows[0].Users != 61 {
		t.Errorf("cohort 1 through the views after the migration: %+v, %v; want its w1 row", rows, err)
	}
	ledger, err := c.Ledger(ctx, w0, w2.Add(time.Hour))
	if err != nil || len(ledger) != 3 {
		t.Fatalf("ledger: %+v, %v", ledger, err)
	}
	if r := ledger[0]; r.KeyID != "" || r.ReleaseDelta != r.Delta || r.Mode != "" || r.LeaseToken != 0 {
		t.Errorf("a row of before 0010 reads key id %q, release delta %g (delta %g), mode %q, lease %d; want none, its delta, none, 0",
			r.KeyID, r.ReleaseDelta, r.Delta, r.Mode, r.LeaseToken)
	}
}
