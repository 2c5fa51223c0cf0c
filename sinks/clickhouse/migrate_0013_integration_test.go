package clickhouse

import (
	"math"
	"testing"
	"time"
)

// TestMigrate0013OverLedgerOf0012: a ledger row of a pure-epsilon release
// booked before 0013 reads rho = epsilon²/2 and rho_spent =
// epsilon_spent²/2 after it (over-counting, never under-counting, what
// it spent in zCDP); a new row keeps the rho it was booked with.
func TestMigrate0013OverLedgerOf0012(t *testing.T) {
	cfg := testConfig(t)
	c := openClient(t, cfg)
	ctx := t.Context()
	m := migrateBefore(t, c, 13)
	if m.Name != "0013_privacy_ledger_rho.sql" {
		t.Fatalf("no migration 13 named 0013_privacy_ledger_rho.sql: %q", m.Name)
	}
	batch, err := c.conn.PrepareBatch(ctx, "INSERT INTO "+cfg.Database+".privacy_ledger (window_start, window_end, release, epsilon, delta, "+
		"bounds, spec_hash, code_version, rows_published, rows_suppressed, republish, epsilon_spent, released_at)")
	if err != nil {
		t.Fatal(err)
	}
	if err := batch.Append(window, window.Add(time.Hour), "r0", 4.0, 1e-9, "events=100", "h", "v0", uint64(3), uint64(1), uint8(1), 0.0, window.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := batch.Send(); err != nil {
		t.Fatal(err)
	}
	if applied, err := c.Migrate(ctx); err != nil || len(applied) == 0 || applied[0] != m.Name {
		t.Fatalf("migrate applied %v, %v; want %s first", applied, err, m.Name)
	}
	fresh := LedgerRow{WindowStart: window, WindowEnd: window.Add(time.Hour), Release: "r1", Rho: 0.4, RhoSpent: 0.4, Delta: 1e-6,
		Bounds: "events=25", SpecHash: "h", CodeVersion: "v1", InputDigest: "d", KeyID: "k", Noise: true, Mode: "test", ReleasedAt: window.Add(3 * time.Hour)}
	if err := c.AppendLedger(ctx, fresh); err != nil {
		t.Fatal(err)
	}
	rows, err := c.Ledger(ctx, window, window.Add(time.Hour))
	if err != nil || len(rows) != 2 {
		t.Fatalf("ledger: %v, %d rows", err, len(rows))
	}
	if old := rows[0]; old.Rho != 8 || old.RhoSpent != 0 {
		t.Errorf("row of before 0013: rho %g, rho_spent %g; want 8 (4²/2) and 0 (it spent no epsilon)", old.Rho, old.RhoSpent)
	}
	if got := rows[1]; got.Rho != 0.4 || got.RhoSpent != 0.4 || got.Epsilon != 0 {
		t.Errorf("new row: rho %g, rho_spent %g, epsilon %g; want 0.4, 0.4, 0", got.Rho, got.RhoSpent, got.Epsilon)
	}
}

// TestFeatureNoise: a release's noise reads back by index, written twice
// (every publish of the release writes it) once.
// TestChDB runs the same scenario on a current ClickHouse.
func TestFeatureNoise(t *testing.T) {
	cfg := testConfig(t)
	c := openClient(t, cfg)
	if _, err := c.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	featureNoiseScenario(t, c)
}

// featureNoiseScenario writes a release's noise twice and reads it back,
// on a migrated Client of any server.
func featureNoiseScenario(t *testing.T, c *Client) {
	ctx := t.Context()
	rows := []FeatureNoise{
		{Release: "spec1-abc-fs2", FeatureSet: 2, Index: 0, Name: "reach.kind.message_sent", Sigma: 11.18},
		{Release: "spec1-abc-fs2", FeatureSet: 2, Index: 44, Name: "sum.call_seconds", Sigma: math.NaN()},
		{Release: "spec1-abc-fs2", FeatureSet: 2, Index: UsersIndex, Name: "users", Sigma: 3.95},
		{Release: "other", FeatureSet: 1, Index: 0, Name: "x", Sigma: 1},
	}
	for range 2 {
		if err := c.WriteFeatureNoise(ctx, rows); err != nil {
			t.Fatal(err)
		}
	}
	got, err := c.ReadFeatureNoise(ctx, "spec1-abc-fs2")
	if err != nil || len(got) != 3 || got[0].Sigma != 11.18 || !math.IsNaN(got[1].Sigma) || got[2].Index != UsersIndex || got[2].Name != "users" {
		t.Errorf("ReadFeatureNoise = %+v, %v", got, err)
	}
	if _, err := c.ReadFeatureNoise(ctx, "x' OR 1=1"); err == nil {
		t.Error("a release name with a quote was not refused")
	}
}
