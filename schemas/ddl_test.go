package schemas

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var updateDDL = flag.Bool("update", false, "rewrite testdata/ddl_*.golden from the DDL files")

// TestDDLGolden pins the rendered DDL of both modes: a change to a DDL file
// or to the rendering shows as a diff of the golden file in review. Run
// `go test ./schemas/ -run TestDDLGolden -update` after a deliberate change.
func TestDDLGolden(t *testing.T) {
	for _, tc := range []struct {
		golden string
		opts   DDLOptions
	}{
		{"ddl_single.golden", DDLOptions{}},
		{"ddl_cluster.golden", DDLOptions{Cluster: "analytics", ZooKeeperPath: "/ch/tables"}},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			d, err := RenderDDL(tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			got := d.Script()
			path := filepath.Join("testdata", tc.golden)
			if *updateDDL {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v: run go test ./schemas/ -run TestDDLGolden -update", err)
			}
			if got != string(want) {
				t.Errorf("rendered DDL differs from %s; if deliberate, run go test ./schemas/ -run TestDDLGolden -update\n%s", path, firstDiff(string(want), got))
			}
		})
	}
}

func firstDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return "line " + strconv.Itoa(i+1) + ":\n  want: " + wl + "\n  got:  " + gl
		}
	}
	return ""
}

// TestDDLPortable keeps out what ClickHouse 18.16 lacks or current releases
// dropped, so that neither server is the only one the DDL runs on. One
// SETTINGS is allowed: a MergeTree's index_granularity at the end of its
// CREATE TABLE (cohort_latest, 0015), which both take (measured on 18.16;
// TestChDB runs it on 26.x); SETTINGS anywhere else (on an INSERT) is not.
func TestDDLPortable(t *testing.T) {
	banned := regexp.MustCompile(`(?i)\b(TTL|Map\(|CODEC|DateTime64|LowCardinality|SETTINGS|JSON|Object\(|Date32)\b`)
	granularity := regexp.MustCompile(`(?s)^(CREATE TABLE .*MergeTree.*)\nSETTINGS index_granularity = [0-9]+$`)
	for _, opts := range []DDLOptions{{}, {Cluster: "c"}} {
		d, err := RenderDDL(opts)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range append([]Migration{d.Bootstrap}, d.Migrations...) {
			for _, s := range m.Statements {
				s = granularity.ReplaceAllString(s, "$1")
				if w := banned.FindString(s); w != "" {
					t.Errorf("%s (cluster %q) uses %s, which 18.16 or current releases lack:\n%s", m.Name, opts.Cluster, w, s)
				}
			}
		}
	}
}

func TestDDLMigrationsNumberedAndComplete(t *testing.T) {
	d, err := RenderDDL(DDLOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Bootstrap.Name != "bootstrap.sql" || d.Bootstrap.Version != 0 || len(d.Bootstrap.Statements) != 3 {
		t.Errorf("bootstrap = %s v%d with %d statements, want bootstrap.sql v0 with 3", d.Bootstrap.Name, d.Bootstrap.Version, len(d.Bootstrap.Statements))
	}
	created := map[string]bool{}
	createRe := regexp.MustCompile(`^CREATE (?:TABLE|VIEW) IF NOT EXISTS (\w+\.\w+)`)
	for i, m := range d.Migrations {
		if m.Version != i+1 {
			t.Errorf("migration %d is %s (version %d): versions must run 1, 2, 3 … without gaps", i, m.Name, m.Version)
		}
		if len(m.Checksum) != 64 || len(m.Statements) == 0 {
			t.Errorf("%s: checksum %q, %d statements", m.Name, m.Checksum, len(m.Statements))
		}
		for _, s := range m.Statements {
			_, _, _, added := AddedColumn(s) // 18.16 has no ADD COLUMN IF NOT EXISTS: migrate checks instead
			if !strings.Contains(s, "IF NOT EXISTS") && !strings.HasPrefix(s, "DROP TABLE IF EXISTS ") && !added && !IsDataMigration(s) {
				t.Errorf("%s: a statement without IF [NOT] EXISTS, nor a single ADD COLUMN, cannot be re-run after a half-applied migration:\n%s", m.Name, s)
			}
			if c := createRe.FindStringSubmatch(s); c != nil {
				created[c[1]] = true
			}
		}
	}
	for _, want := range []string{
		"cohortline.cohort_partials", "cohortline.window_progress", "cohortline.backfill_progress", "cohortline.cohort_partials_current",
		"cohortline.privacy_ledger", "cohortline.publish_lease", "cohortline_published.cohort_enrichment",
		"cohortline_published.cohort_enrichment_latest", "cohortline_published.cohort_enrichment_current",
		"cohortline_published.feature_dictionary", "cohortline_published.published_releases",
		"cohortline_published.cohort_latest",
	} {
		if !created[want] {
			t.Errorf("no migration creates %s", want)
		}
	}
	for name := range created {
		if strings.HasPrefix(name, "cohortline_published.") && strings.Contains(name, "partials") {
			t.Errorf("%s is in the published database: the targeter would see partials", name)
		}
	}
}

// TestDDLClusterEveryStatementOnCluster: a cluster statement without ON
// CLUSTER would create its object on the one node migrate talks to.
func TestDDLClusterEveryStatementOnCluster(t *testing.T) {
	d, err := RenderDDL(DDLOptions{Cluster: "analytics"})
	if err != nil {
		t.Fatal(err)
	}
	distributed, alters := 0, 0
	for _, m := range append([]Migration{d.Bootstrap}, d.Migrations...) {
		for _, s := range m.Statements {
			if IsDataMigration(s) {
				continue // an INSERT cannot be ON CLUSTER; it goes into a table replicated everywhere
			}
			if strings.HasPrefix(s, "ALTER TABLE cohortline.privacy_ledger\n") {
				alters++
				continue // replicated everywhere: it replicates its ALTERs itself (alterEverywhere)
			}
			if !strings.Contains(s, " ON CLUSTER `analytics`") {
				t.Errorf("%s: statement without ON CLUSTER:\n%s", m.Name, s)
			}
			if strings.Contains(s, "ENGINE = Distributed('analytics', ") {
				distributed++
			} else if strings.Contains(s, "MergeTree") && !strings.Contains(s, "ENGINE = Replicated") {
				t.Errorf("%s: a MergeTree that is not Replicated in cluster mode:\n%s", m.Name, s)
			}
		}
	}
	single, err := RenderDDL(DDLOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, m := range single.Migrations {
		for _, s := range m.Statements {
			if strings.HasPrefix(s, "ALTER TABLE cohortline.privacy_ledger\n") {
				want++
			}
		}
	}
	if alters != want || want == 0 {
		t.Errorf("%d ALTERs of privacy_ledger without ON CLUSTER, want all %d of the migrations", alters, want)
	}
	for _, m := range d.Migrations {
		for _, s := range m.Statements {
			if strings.Contains(s, "ON CLUSTER") && strings.Contains(s, "ALTER TABLE cohortline.privacy_ledger") {
				t.Errorf("%s: an ALTER of a table replicated to every node runs ON CLUSTER: %s", m.Name, s)
			}
		}
	}
	if distributed != 5 {
		t.Errorf("%d Distributed tables, want 5 (cohort_partials, window_progress, backfill_progress, cohort_enrichment, cohort_latest)", distributed)
	}
}

// TestDDLPartialsColumnsMatchArrowSchema ties the table to the Arrow schema
// the sink writes from, column for column, in order.
func TestDDLPartialsColumnsMatchArrowSchema(t *testing.T) {
	d, err := RenderDDL(DDLOptions{})
	if err != nil {
		t.Fatal(err)
	}
	create := d.Migrations[0].Statements[0]
	body := create[strings.Index(create, "(")+1 : strings.Index(create, "ENGINE")]
	var got []string
	for _, line := range strings.Split(body, "\n") {
		if f := strings.Fields(line); len(f) >= 2 {
			got = append(got, f[0])
		}
	}
	var want []string
	for _, f := range PartialsSchema.Fields() {
		want = append(want, f.Name)
	}
	want = append(want, "flushed_at")
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("cohort_partials columns %v, want PartialsSchema's %v", got, want)
	}
}

func TestDDLOptionsNamesAreUsed(t *testing.T) {
	d, err := RenderDDL(DDLOptions{Database: "cl_it", PublishedDatabase: "clp_it"})
	if err != nil {
		t.Fatal(err)
	}
	s := d.Script()
	if strings.Contains(s, "cohortline.") || strings.Contains(s, "cohortline_published.") {
		t.Errorf("default database names left in the DDL rendered for other names:\n%s", s)
	}
	if !strings.Contains(s, "cl_it.cohort_partials") || !strings.Contains(s, "clp_it.cohort_enrichment") {
		t.Errorf("database names not applied")
	}
}

func TestDDLOptionsValidate(t *testing.T) {
	for _, tc := range []struct {
		opts DDLOptions
		want string // "" for valid
	}{
		{DDLOptions{}, ""},
		{DDLOptions{Database: "a", PublishedDatabase: "b", Cluster: "prod-eu.1", ZooKeeperPath: "/ch/{cluster}/tables"}, ""},
		{DDLOptions{Database: "x; DROP TABLE y"}, "database"},
		{DDLOptions{Database: "1abc"}, "database"},
		{DDLOptions{PublishedDatabase: "pub-lished"}, "published_database"},
		{DDLOptions{Database: "same", PublishedDatabase: "same"}, "both"},
		{DDLOptions{Cluster: "a b"}, "cluster"},
		{DDLOptions{Cluster: "c", ZooKeeperPath: "relative"}, "zookeeper_path"},
		{DDLOptions{Cluster: "c", ZooKeeperPath: "/a'b"}, "zookeeper_path"},
		{DDLOptions{Cluster: "c", ZooKeeperPath: "/a/"}, "zookeeper_path"},
	} {
		err := tc.opts.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%+v: %v, want valid", tc.opts, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%+v: error %v, want one naming %q", tc.opts, err, tc.want)
		}
		if _, rerr := RenderDDL(tc.opts); (rerr == nil) != (tc.want == "") {
			t.Errorf("RenderDDL(%+v) error %v disagrees with Validate", tc.opts, rerr)
		}
	}
}

func TestSplitStatements(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"-- only a comment\n", nil},
		{"SELECT 1;\nSELECT 2;", []string{"SELECT 1", "SELECT 2"}},
		{"SELECT 1 -- trailing; not the end\n, 2;", []string{"SELECT 1\n, 2"}},
		{"SELECT ';' AS a, `x;y`, \"p;q\";", []string{"SELECT ';' AS a, `x;y`, \"p;q\""}},
		{"SELECT 'it''s; --no', 'a\\';b';", []string{"SELECT 'it''s; --no', 'a\\';b'"}},
		{"SELECT /* a; b */ 1;\n\n;\nSELECT 2", []string{"SELECT   1", "SELECT 2"}},
		{"CREATE TABLE t\n(\n    a UInt8,   -- why\n    b UInt8\n);\n", []string{"CREATE TABLE t\n(\n    a UInt8,\n    b UInt8\n)"}},
	} {
		got := SplitStatements(tc.in)
		if strings.Join(got, "|") != strings.Join(tc.want, "|") || len(got) != len(tc.want) {
			t.Errorf("SplitStatements(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestAddedColumn(t *testing.T) {
	for _, tc := range []struct {
		stmt              string
		db, table, column string
	}{
		{"ALTER TABLE d.t\n    ADD COLUMN c String AFTER b", "d", "t", "c"},
		{"ALTER TABLE d.t ON CLUSTER `prod-1` ADD COLUMN e Float64 DEFAULT epsilon", "d", "t", "e"},
		{"ALTER TABLE d.t ADD COLUMN p Tuple(a UInt8, b String) DEFAULT (1, 'x,y')", "d", "t", "p"},
		{"ALTER TABLE d.t ADD COLUMN a UInt8, ADD COLUMN b UInt8", "", "", ""},
		{"ALTER TABLE d.t ADD COLUMN a UInt8, DROP COLUMN b", "", "", ""},
		{"ALTER TABLE d.t DROP COLUMN a", "", "", ""},
		{"ALTER TABLE t ADD COLUMN a UInt8", "", "", ""},
		{"CREATE TABLE IF NOT EXISTS d.t (a UInt8) ENGINE = Log", "", "", ""},
	} {
		db, table, column, ok := AddedColumn(tc.stmt)
		if db != tc.db || table != tc.table || column != tc.column || ok != (tc.column != "") {
			t.Errorf("AddedColumn(%q) = %q, %q, %q, %v; want %q, %q, %q", tc.stmt, db, table, column, ok, tc.db, tc.table, tc.column)
		}
	}
}
