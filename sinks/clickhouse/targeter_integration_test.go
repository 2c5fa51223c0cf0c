package clickhouse

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/cohortline/cohortline/deploy/devenv"
)

// ClickHouse exception codes the targeter's account must get.
const (
	codeReadonly             = 164 // READONLY
	codeDatabaseAccessDenied = 291 // DATABASE_ACCESS_DENIED
)

// targeterClients migrates a test deployment whose published database is
// the one the dev server's targeter account may read (18.16 grants by
// exact name), and returns a client of the default user (admin) and one
// of the targeter, both on it. Tests using it must not run in parallel:
// they share that database.
func targeterClients(t *testing.T) (admin, targeter *Client) {
	t.Helper()
	cfg := testConfig(t)
	cfg.PublishedDatabase = devenv.TargeterDatabaseSinks
	admin = openClient(t, cfg) // drops both databases at cleanup
	if err := admin.conn.Exec(t.Context(), "DROP DATABASE IF EXISTS "+cfg.PublishedDatabase); err != nil {
		t.Fatal(err) // left over by an interrupted run
	}
	if _, err := admin.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	cfg.Username, cfg.Password = devenv.TargeterUser, devenv.TargeterPassword()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	targeter, err := Open(ctx, cfg)
	if err != nil {
		t.Fatalf("logging in as %s: %v\n(the server's users.xml lacks the account? deploy/dev/up writes it, also into a running server)", cfg.Username, err)
	}
	t.Cleanup(func() { targeter.Close() })
	return admin, targeter
}

// writePublished writes two published rows and a dictionary as the admin.
func writePublished(t *testing.T, admin *Client) []EnrichmentRow {
	t.Helper()
	rows := []EnrichmentRow{
		enrichment(window, 1, "country=BR|lang=pt|age=25-34|platform=android", 60, window.Add(2*time.Hour)),
		enrichment(window, 2, "country=BR|lang=pt|age=25-34|platform=*", 90, window.Add(2*time.Hour)),
	}
	publishRows(t, admin, rows)
	dict := []DictionaryEntry{{FeatureSet: 1, Index: 0, Name: "reach.kind.call", Unit: "users"}, {FeatureSet: 1, Index: 1, Name: "x", Unit: "events"}}
	if err := admin.WriteFeatureDictionary(t.Context(), dict); err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestTargeterAccount proves privacy invariant 5 on the real server: the
// targeter's account reads the published tables and the view, cannot read
// any internal table (nor learn their names from the system database),
// and cannot write, change or drop anything, whatever settings it sends.
func TestTargeterAccount(t *testing.T) {
	admin, targeter := targeterClients(t)
	rows := writePublished(t, admin)
	pub, internal := admin.cfg.PublishedDatabase, admin.cfg.Database
	ctx := t.Context()

	t.Run("reads published", func(t *testing.T) {
		got, err := targeter.ReadEnrichment(ctx, []uint64{1, 2}, time.Time{})
		if err != nil || len(got) != 2 || got[0].CohortKey != rows[0].CohortKey || got[1].Users != 90 {
			t.Errorf("ReadEnrichment as targeter: %+v, %v", got, err)
		}
		dict, err := targeter.FeatureDictionary(ctx, 1)
		if err != nil || len(dict) != 2 {
			t.Errorf("FeatureDictionary as targeter: %+v, %v", dict, err)
		}
		for table, want := range map[string]uint64{"cohort_enrichment": 2, "cohort_enrichment_latest": 2, "cohort_latest": 2, "cohort_enrichment_current": 2, "feature_dictionary": 2, "published_releases": 1} {
			if n, err := count(t, targeter, pub+"."+table); err != nil || n != want {
				t.Errorf("SELECT count() FROM %s.%s as targeter: %d, %v; want %d", pub, table, n, err, want)
			}
		}
	})

	t.Run("internal database refused", func(t *testing.T) {
		for _, q := range []string{
			"SELECT count() FROM " + internal + ".cohort_partials",
			"SELECT count() FROM " + internal + ".window_progress",
			"SELECT count() FROM " + internal + ".cohort_partials_current",
			"SELECT count() FROM " + internal + ".privacy_ledger",
			"SELECT count() FROM " + internal + ".schema_migrations",
			"DESCRIBE TABLE " + internal + ".privacy_ledger",
			"SHOW CREATE TABLE " + internal + ".privacy_ledger",
			// The production name too: refused by name, whether or not it exists here.
			"SELECT count() FROM cohortline.privacy_ledger",
		} {
			db := internal
			if strings.Contains(q, " cohortline.") {
				db = "cohortline"
			}
			wantException(t, targeter, q, nil, codeDatabaseAccessDenied, "Access denied to database "+db+" for user targeter")
		}
	})

	t.Run("system database shows no internal names", func(t *testing.T) {
		for _, q := range []string{
			"SELECT DISTINCT database FROM system.tables",
			"SELECT DISTINCT database FROM system.columns",
			"SELECT name FROM system.databases",
		} {
			dbs := queryStrings(t, targeter, q)
			allowed := []string{"system", "cohortline_published", devenv.TargeterDatabaseSinks, devenv.TargeterDatabaseCLI}
			for _, db := range dbs {
				if !slices.Contains(allowed, db) {
					t.Errorf("%s as targeter lists database %q", q, db)
				}
			}
			if !slices.Contains(dbs, pub) {
				t.Errorf("%s as targeter: %v, want %s among them", q, dbs, pub)
			}
		}
		if n, err := count(t, targeter, "system.parts WHERE database = '"+internal+"'"); err != nil || n != 0 {
			t.Errorf("system.parts of %s as targeter: %d rows, %v", internal, n, err)
		}
		// Answered from system.tables: empty rather than refused.
		if tables := queryStrings(t, targeter, "SHOW TABLES FROM "+internal); len(tables) != 0 {
			t.Errorf("SHOW TABLES FROM %s as targeter: %v", internal, tables)
		}
	})

	t.Run("read-only", func(t *testing.T) {
		escape := ch.Context(ctx, ch.WithSettings(ch.Settings{"readonly": 0})) // ignored for a readonly=1 user
		for _, tc := range []struct {
			q    string
			ctx  context.Context
			want string
		}{
			{"CREATE TABLE " + pub + ".x (a UInt8) ENGINE = Memory", ctx, "Cannot create table in readonly mode"},
			{"CREATE TABLE " + pub + ".x (a UInt8) ENGINE = Memory", escape, "Cannot create table in readonly mode"},
			{"CREATE DATABASE x_targeter", ctx, "readonly mode"},
			{"DROP TABLE " + pub + ".feature_dictionary", ctx, "Cannot drop table in readonly mode"},
			{"TRUNCATE TABLE " + pub + ".cohort_enrichment", ctx, "readonly mode"},
			{"ALTER TABLE " + pub + ".cohort_enrichment DROP PARTITION '2026-11-01'", ctx, "readonly mode"},
			{"OPTIMIZE TABLE " + pub + ".cohort_enrichment FINAL", ctx, "readonly mode"},
			{"TRUNCATE TABLE " + pub + ".cohort_latest", ctx, "readonly mode"},
			{"ALTER TABLE " + pub + ".cohort_latest DROP PARTITION tuple()", ctx, "readonly mode"},
			{"RENAME TABLE " + pub + ".feature_dictionary TO " + pub + ".y", ctx, "readonly mode"},
			{"SET readonly = 0", ctx, "Cannot execute SET query in readonly mode"},
			// Table functions would let it log in again as another user.
			{"SELECT count() FROM remote('" + targeter.cfg.Addr[0] + "', " + internal + ".privacy_ledger)", ctx, "Table functions are forbidden in readonly mode"},
			{"SELECT count() FROM merge('" + internal + "', '.*')", ctx, "Table functions are forbidden in readonly mode"},
		} {
			wantException(t, targeter, tc.q, tc.ctx, codeReadonly, tc.want)
		}
		err := targeter.WriteEnrichment(ctx, rows[:1])
		if ex := (*ch.Exception)(nil); !errors.As(err, &ex) || ex.Code != codeReadonly || !strings.Contains(ex.Message, "Cannot insert into table in readonly mode") {
			t.Errorf("WriteEnrichment as targeter: %v, want code %d (readonly)", err, codeReadonly)
		}
		if n, err := count(t, admin, pub+".cohort_enrichment"); err != nil || n != 2 {
			t.Errorf("cohort_enrichment after the targeter's attempts: %d rows, %v; want 2", n, err)
		}
		if n, err := count(t, admin, pub+".feature_dictionary"); err != nil || n != 2 {
			t.Errorf("feature_dictionary after the targeter's attempts: %d rows, %v; want 2", n, err)
		}
	})
}

// wantException runs q as c and checks it fails with a ClickHouse
// exception of the code, its message containing msg.
func wantException(t *testing.T, c *Client, q string, ctx context.Context, code int32, msg string) {
	t.Helper()
	if ctx == nil {
		ctx = t.Context()
	}
	err := queryAll(ctx, c, q)
	ex := (*ch.Exception)(nil)
	if !errors.As(err, &ex) || ex.Code != code || !strings.Contains(ex.Message, msg) {
		t.Errorf("%s as %s: %v; want code %d, %q", q, c.cfg.Username, err, code, msg)
	}
}

// queryAll runs q and reads its result to the end: an exception may come
// with the result rather than before it.
func queryAll(ctx context.Context, c *Client, q string) error {
	rows, err := c.conn.Query(ctx, q)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
	}
	return rows.Err()
}

func count(t *testing.T, c *Client, from string) (uint64, error) {
	var n uint64
	err := c.conn.QueryRow(t.Context(), "SELECT count() FROM "+from).Scan(&n)
	return n, err
}

func queryStrings(t *testing.T, c *Client, q string) []string {
	t.Helper()
	rows, err := c.conn.Query(t.Context(), q)
	if err != nil {
		t.Fatalf("%s as %s: %v", q, c.cfg.Username, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}
