package clickhouse

import (
	"errors"
	"slices"
	"strings"
	"testing"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/cohortline/cohortline/schemas"
)

func TestMigrateTwiceCreatesEveryTableOnce(t *testing.T) {
	cfg := testConfig(t)
	c := openClient(t, cfg)
	ddl, err := schemas.RenderDDL(c.cfg.ddlOptions())
	if err != nil {
		t.Fatal(err)
	}

	applied, err := c.Migrate(t.Context())
	if err != nil {
		t.Fatalf("first migrate: %v", err)
	}
	if len(applied) != len(ddl.Migrations) || applied[0] != "0001_cohort_partials.sql" {
		t.Errorf("first migrate applied %v, want all %d migrations in order", applied, len(ddl.Migrations))
	}
	again, err := c.Migrate(t.Context())
	if err != nil || len(again) != 0 {
		t.Fatalf("second migrate applied %v, %v; want nothing", again, err)
	}
	if n := queryUint64(t, c, "SELECT count() FROM "+cfg.Database+".schema_migrations"); n != uint64(len(ddl.Migrations)) {
		t.Errorf("schema_migrations has %d rows, want %d", n, len(ddl.Migrations))
	}

	want := map[string]string{
		cfg.Database + ".schema_migrations":                  "version UInt32, name String, checksum String, applied_at DateTime",
		cfg.Database + ".cohort_partials":                    "window_start DateTime, window_end DateTime, topic String, partition Int32, cohort_id UInt64, cohort_key String, feature_set UInt16, users UInt64, events UInt64, values Array(UInt64), flush_version UInt64, flushed_at DateTime",
		cfg.Database + ".window_progress":                    "window_start DateTime, window_end DateTime, topic String, partition Int32, flush_version UInt64, rows UInt64, first_offset Int64, last_offset Int64, watermark Int64, flushed_at DateTime",
		cfg.Database + ".backfill_progress":                  "window_start DateTime, window_end DateTime, topic String, partition Int32, flush_version UInt64, rows UInt64, first_offset Int64, last_offset Int64, watermark Int64, flushed_at DateTime",
		cfg.Database + ".cohort_partials_current":            "window_start DateTime, window_end DateTime, topic String, partition Int32, cohort_id UInt64, cohort_key String, feature_set UInt16, users UInt64, events UInt64, values Array(UInt64), flush_version UInt64",
		cfg.Database + ".privacy_ledger":                     "window_start DateTime, window_end DateTime, release String, epsilon Float64, rho Float64, delta Float64, release_delta Float64, bounds String, spec_hash String, code_version String, input_digest String, key_id String, rows_published UInt64, rows_suppressed UInt64, republish UInt8, epsilon_spent Float64, rho_spent Float64, noise UInt8, mode String, lease_token UInt64, released_at DateTime",
		cfg.Database + ".publish_lease":                      "token UInt64, holder String, seq UInt64, acquired_at DateTime, expires_at DateTime, released UInt8",
		cfg.PublishedDatabase + ".cohort_enrichment":         "window_start DateTime, window_end DateTime, cohort_id UInt64, cohort_key String, level String, users UInt64, features Array(Float32), feature_set UInt16, release String, published_at DateTime",
		cfg.PublishedDatabase + ".cohort_enrichment_latest":  "cohort_id UInt64, window_start DateTime, window_end DateTime, cohort_key String, level String, users UInt64, features Array(Float32), feature_set UInt16, release String, published_at DateTime",
		cfg.PublishedDatabase + ".cohort_enrichment_current": "cohort_id UInt64, window_start DateTime, window_end DateTime, cohort_key String, level String, users UInt64, features Array(Float32), feature_set UInt16, release String, published_at DateTime",
		cfg.PublishedDatabase + ".feature_dictionary":        "feature_set UInt16, index UInt32, name String, description String, unit String",
		cfg.PublishedDatabase + ".published_releases":        "window_start DateTime, window_end DateTime, release String, published_at DateTime, mode String",
		cfg.PublishedDatabase + ".feature_noise":             "release String, feature_set UInt16, index UInt32, name String, sigma Float64",
		cfg.PublishedDatabase + ".cohort_latest":             "cohort_id UInt64, window_start DateTime, window_end DateTime, cohort_key String, level String, users UInt64, features Array(Float32), feature_set UInt16, release String, published_at DateTime, version UInt64",
	}
	got := map[string]string{}
	// No ORDER BY: 18.16's system.columns has no position, and lists
	// columns in table order.
	rows, err := c.conn.Query(t.Context(), `SELECT database, table, name, type FROM system.columns
		WHERE database IN (?, ?)`, cfg.Database, cfg.PublishedDatabase)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var db, table, name, typ string
		if err := rows.Scan(&db, &table, &name, &typ); err != nil {
			t.Fatal(err)
		}
		key := db + "." + table
		if got[key] != "" {
			got[key] += ", "
		}
		got[key] += name + " " + typ
	}
	rows.Close()
	for table, cols := range want {
		if got[table] != cols {
			t.Errorf("%s columns:\n got  %s\n want %s", table, got[table], cols)
		}
	}
	for table := range got {
		if _, ok := want[table]; !ok {
			t.Errorf("unexpected table %s", table)
		}
	}
}

func TestMigrateRefusesChangedOrUnknownMigrations(t *testing.T) {
	cfg := testConfig(t)
	c := migratedClient(t, cfg)
	insert := func(version uint32, checksum string) {
		batch, err := c.conn.PrepareBatch(t.Context(), "INSERT INTO "+cfg.Database+".schema_migrations (version, name, checksum, applied_at)")
		if err != nil {
			t.Fatal(err)
		}
		if err := batch.Append(version, "x.sql", checksum, c.now()); err != nil {
			t.Fatal(err)
		}
		if err := batch.Send(); err != nil {
			t.Fatal(err)
		}
	}
	insert(999, "feed")
	if _, err := c.Migrate(t.Context()); err == nil || !strings.Contains(err.Error(), "[999]") {
		t.Errorf("migrate over an unknown version 999: %v, want a refusal naming it", err)
	}
	if err := c.conn.Exec(t.Context(), "TRUNCATE TABLE "+cfg.Database+".schema_migrations"); err != nil {
		t.Fatal(err)
	}
	insert(1, "0000000000000000")
	if _, err := c.Migrate(t.Context()); err == nil || !strings.Contains(err.Error(), "0001_cohort_partials.sql") {
		t.Errorf("migrate over a changed 0001: %v, want a refusal naming it", err)
	}
}

// TestClusterDDLParsesOnServer sends every cluster-mode statement to the
// real 18.16 server. It has no ZooKeeper, so distributed DDL is refused
// (code 49, "DDL background thread is not initialized") after parsing:
// any other error, a syntax error above all, is a broken statement.
// (TestRunOnClusters in cmd/cohortline runs them on a real 2x2 cluster.)
// Nothing is created. On a server that does run distributed DDL the test
// skips rather than create things on a cluster.
func TestClusterDDLParsesOnServer(t *testing.T) {
	cfg := testConfig(t)
	c := openClient(t, cfg)
	ddl, err := schemas.RenderDDL(schemas.DDLOptions{Database: cfg.Database, PublishedDatabase: cfg.PublishedDatabase, Cluster: "cohortline_dev"})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range append([]schemas.Migration{ddl.Bootstrap}, ddl.Migrations...) {
		for i, stmt := range m.Statements {
			if schemas.IsDataMigration(stmt) {
				continue // not DDL: it needs the tables the DDL before it would create
			}
			err := c.conn.Exec(t.Context(), stmt)
			var ex *ch.Exception
			switch {
			case err == nil:
				t.Skipf("the server ran distributed DDL (%s statement %d): not a server without ZooKeeper", m.Name, i+1)
			case errors.As(err, &ex) && ex.Code == 49 && strings.Contains(ex.Message, "DDL background thread"):
			case errors.As(err, &ex) && ex.Code == 81 && !strings.Contains(stmt, " ON CLUSTER "):
				// An ALTER of a table replicated to every node runs on one
				// server (schemas: alterEverywhere); parsed, it finds no
				// database, since nothing was created.
			default:
				t.Errorf("%s statement %d: %v\n%s", m.Name, i+1, err, stmt)
			}
		}
	}
	if n := queryUint64(t, c, "SELECT count() FROM system.databases WHERE name IN ('"+cfg.Database+"', '"+cfg.PublishedDatabase+"')"); n != 0 {
		t.Errorf("cluster DDL created %d databases on a server without distributed DDL", n)
	}
}

// TestMigrateSecondPublishedDatabase: a published database configured
// after the internal one was migrated (another k over the same partials)
// gets its tables, though schema_migrations says everything is applied.
func TestMigrateSecondPublishedDatabase(t *testing.T) {
	cfg := testConfig(t)
	migratedClient(t, cfg)
	second := cfg
	second.PublishedDatabase = cfg.PublishedDatabase + "_k100"
	c := openClient(t, second)
	applied, err := c.Migrate(t.Context())
	if err != nil || len(applied) != 0 {
		t.Fatalf("migrate with a new published database: applied %v, %v; want nothing applied", applied, err)
	}
	var tables []string
	rows, err := c.conn.Query(t.Context(), "SELECT name FROM system.tables WHERE database = ? ORDER BY name", second.PublishedDatabase)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, n)
	}
	if want := []string{"cohort_enrichment", "cohort_enrichment_current", "cohort_enrichment_latest", "cohort_latest", "feature_dictionary", "feature_noise", "published_releases"}; !slices.Equal(tables, want) {
		t.Errorf("tables of %s: %v, want %v", second.PublishedDatabase, tables, want)
	}
}
