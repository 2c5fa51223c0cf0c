package clickhouse

import (
	"testing"
	"time"

	"github.com/cohortline/cohortline/schemas"
)

// TestMigrate0008OverLedgerOf0007: a database migrated up to 0007, with a
// ledger row and with 0008 half-applied (one of its columns already
// added, the version not recorded), gets the rest of 0008 and nothing
// else; migrating again does nothing; the old row reads the defaults
// that over-count its spending.
func TestMigrate0008OverLedgerOf0007(t *testing.T) {
	cfg := testConfig(t)
	c := openClient(t, cfg)
	ctx := t.Context()
	m0008 := migrateBefore(t, c, 8)
	if m0008.Name != "0008_privacy_ledger_digest.sql" {
		t.Fatalf("no migration 8 named 0008_privacy_ledger_digest.sql: %q", m0008.Name)
	}

	batch, err := c.conn.PrepareBatch(ctx, "INSERT INTO "+cfg.Database+".privacy_ledger (window_start, window_end, release, epsilon, delta, "+
		"bounds, spec_hash, code_version, rows_published, rows_suppressed, republish, released_at)")
	if err != nil {
		t.Fatal(err)
	}
	if err := batch.Append(window, window.Add(time.Hour), "r0", 4.0, 1e-9, "events=100", "h", "v0", uint64(3), uint64(1), uint8(0), window.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := batch.Send(); err != nil {
		t.Fatal(err)
	}
	if err := c.exec(ctx, m0008.Statements[0]); err != nil { // input_digest, as a migrate cut off after it would leave it
		t.Fatal(err)
	}

	applied, err := c.Migrate(ctx)
	if err != nil || len(applied) == 0 || applied[0] != m0008.Name {
		t.Fatalf("migrate over a half-applied 0008 applied %v, %v; want %s and the later ones", applied, err, m0008.Name)
	}
	if again, err := c.Migrate(ctx); err != nil || len(again) != 0 {
		t.Fatalf("second migrate applied %v, %v; want nothing", again, err)
	}
	if n := queryUint64(t, c, "SELECT count() FROM "+cfg.Database+".schema_migrations WHERE version = 8"); n != 1 {
		t.Errorf("schema_migrations records version 8 %d times, want once", n)
	}

	var (
		digest string
		spent  float64
		noise  uint8
	)
	q := "SELECT input_digest, epsilon_spent, noise FROM " + cfg.Database + ".privacy_ledger"
	if err := c.conn.QueryRow(ctx, q).Scan(&digest, &spent, &noise); err != nil {
		t.Fatal(err)
	}
	if digest != "" || spent != 4 || noise != 1 {
		t.Errorf("a row of before 0008 reads input_digest %q, epsilon_spent %g, noise %d; want \"\", its epsilon 4, 1", digest, spent, noise)
	}
}

// migrateBefore applies the bootstrap and the migrations before version
// v, as an older cohortline would have, and returns migration v.
func migrateBefore(t *testing.T, c *Client, v int) schemas.Migration {
	t.Helper()
	ctx := t.Context()
	ddl, err := schemas.RenderDDL(c.cfg.ddlOptions())
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range ddl.Bootstrap.Statements {
		if err := c.exec(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range ddl.Migrations {
		if m.Version == v {
			return m
		}
		for _, stmt := range m.Statements {
			if err := c.exec(ctx, stmt); err != nil {
				t.Fatalf("%s: %v", m.Name, err)
			}
		}
		if err := c.recordMigration(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	t.Fatalf("no migration %d", v)
	return schemas.Migration{}
}
