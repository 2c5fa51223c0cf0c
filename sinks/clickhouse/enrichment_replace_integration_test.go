package clickhouse

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cohortline/cohortline/deploy/devenv"
)

// storedEnrichment returns every stored row of cohort_enrichment that
// matches where, merged or not, by cohort and publish time.
func storedEnrichment(t *testing.T, c *Client, where string) []EnrichmentRow {
	t.Helper()
	q := "SELECT window_start, window_end, cohort_id, cohort_key, level, users, features, feature_set, release, published_at FROM " +
		c.cfg.PublishedDatabase + ".cohort_enrichment WHERE " + where + " ORDER BY cohort_id, published_at"
	rows, err := c.conn.Query(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []EnrichmentRow
	for rows.Next() {
		var r EnrichmentRow
		if err := rows.Scan(&r.WindowStart, &r.WindowEnd, &r.CohortID, &r.CohortKey, &r.Level, &r.Users, &r.Features,
			&r.FeatureSet, &r.Release, &r.PublishedAt); err != nil {
			t.Fatal(err)
		}
		r.WindowStart, r.WindowEnd, r.PublishedAt = r.WindowStart.UTC(), r.WindowEnd.UTC(), r.PublishedAt.UTC()
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func windowIs(ws time.Time) string { return fmt.Sprintf("window_start = toDateTime(%d)", ws.Unix()) }

func publishedCohorts(t *testing.T, c *Client, ws time.Time) []uint64 {
	t.Helper()
	ids, err := c.PublishedCohorts(t.Context(), ws)
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// TestReplaceEnrichmentWindow: a day with two windows, and the next day.
// Replacing the first window with a smaller, different cohort set leaves
// exactly the new rows in it, the other windows as they were (to readers:
// current releases may fold unmerged republish rows in the copy), no
// staging table, and the latest view and
// PublishedCohorts agreeing. Replacing a window with no rows empties it.
func TestReplaceEnrichmentWindow(t *testing.T) {
	replaceScenario(t, migratedClient(t, testConfig(t)))
}

// replaceScenario is TestReplaceEnrichmentWindow on a migrated client.
func replaceScenario(t *testing.T, c *Client) {
	ctx := t.Context()
	// In cluster mode a write reaches one replica of each shard, and a
	// reader of the Distributed table may read the other: each write is
	// followed by settle, which lets every replica catch up.
	settle := func() {
		if c.cfg.Cluster != "" {
			syncReplicas(t, c.cfg.Addr, c.cfg.PublishedDatabase+".cohort_enrichment_local")
		}
	}
	w0, w1 := window, window.Add(time.Hour) // 10:00 and 11:00 of one day
	next := window.Add(24 * time.Hour)      // 10:00 of the next day
	pub := w1.Add(2 * time.Hour)
	first := []EnrichmentRow{
		enrichment(w0, 1, "c1", 60, pub),
		enrichment(w0, 2, "c2", 61, pub),
		enrichment(w0, 3, "c3", 62, pub),
		enrichment(w1, 1, "c1", 70, pub),
		enrichment(w1, 4, "c4", 71, pub),
		enrichment(next, 5, "c5", 80, pub),
	}
	republish := []EnrichmentRow{enrichment(w0, 2, "c2", 63, pub.Add(time.Minute)), enrichment(w1, 4, "c4", 72, pub.Add(time.Minute))}
	for _, rows := range [][]EnrichmentRow{first, republish} { // two inserts: two parts, not merged yet
		publishRows(t, c, rows)
	}
	settle()
	if got := publishedCohorts(t, c, w0); !slices.Equal(got, []uint64{1, 2, 3}) {
		t.Errorf("PublishedCohorts(w0) = %v, want [1 2 3]", got)
	}
	if got := publishedCohorts(t, c, w1); !slices.Equal(got, []uint64{1, 4}) {
		t.Errorf("PublishedCohorts(w1) = %v, want [1 4]", got)
	}
	if got := publishedCohorts(t, c, w1.Add(time.Hour)); len(got) != 0 {
		t.Errorf("PublishedCohorts of an unpublished window = %v, want none", got)
	}
	w1Before, nextBefore := storedEnrichment(t, c, windowIs(w1)), storedEnrichment(t, c, windowIs(next))
	if len(w1Before) != 3 || len(nextBefore) != 1 {
		t.Fatalf("before the replace: %d rows of w1, %d of the next day; want 3 and 1", len(w1Before), len(nextBefore))
	}

	later := pub.Add(time.Hour)
	replacement := []EnrichmentRow{
		enrichment(w0, 3, "c3", 90, later),
		enrichment(w0, 6, "country=BR|lang=*|age=*|platform=*", 91, later),
	}
	replacement[0].Features = []float32{1.5, 2.5, 3.5}
	replacement[1].Level, replacement[1].Release = "platform,age,lang", "r2"
	markReleased(t, c, replacement)
	if err := c.ReplaceEnrichmentWindow(ctx, w0, w0.Add(time.Hour), replacement, nil); err != nil {
		t.Fatal(err)
	}
	settle()

	if got := storedEnrichment(t, c, windowIs(w0)); !reflect.DeepEqual(got, replacement) {
		t.Errorf("w0 after the replace holds\n%+v\nwant exactly\n%+v", got, replacement)
	}
	// Current releases fold the copy's repeats at insert
	// (optimize_on_insert), as a merge would later: readers see the
	// newest row of each cohort, before and after.
	if got := storedEnrichment(t, c, windowIs(w1)); !reflect.DeepEqual(newestPerCohort(got), newestPerCohort(w1Before)) {
		t.Errorf("w1, of the same day, changed:\n%+v\nwas\n%+v", got, w1Before)
	}
	if got := storedEnrichment(t, c, windowIs(next)); !reflect.DeepEqual(got, nextBefore) {
		t.Errorf("the next day changed:\n%+v\nwas\n%+v", got, nextBefore)
	}
	if got := publishedCohorts(t, c, w0); !slices.Equal(got, []uint64{3, 6}) {
		t.Errorf("PublishedCohorts(w0) after the replace = %v, want [3 6]", got)
	}
	if got, err := c.ReadEnrichment(ctx, []uint64{1, 2, 3, 6}, w0); err != nil || !reflect.DeepEqual(got, replacement) {
		t.Errorf("ReadEnrichment(w0) = %+v, %v; want the replacement rows", got, err)
	}
	assertTables(t, c, "after the replace")

	view := latestView(t, c)
	want := map[uint64]EnrichmentRow{
		1: first[3],       // its w1 row: newer than w0
		3: replacement[0], // w0 was its only window
		4: republish[1],   // the newest publish of w1
		5: first[5],       // the next day
		6: replacement[1], // new in w0
	}
	if !reflect.DeepEqual(view, want) {
		t.Errorf("cohort_enrichment_latest =\n%+v\nwant (no cohort 2)\n%+v", view, want)
	}

	if err := c.ReplaceEnrichmentWindow(ctx, w1, w1.Add(time.Hour), nil, nil); err != nil {
		t.Fatal(err)
	}
	settle()
	if got := storedEnrichment(t, c, windowIs(w1)); len(got) != 0 {
		t.Errorf("w1 replaced with no rows still holds %+v", got)
	}
	if got := storedEnrichment(t, c, windowIs(w0)); !reflect.DeepEqual(got, replacement) {
		t.Errorf("w0 after emptying w1 holds\n%+v\nwant\n%+v", got, replacement)
	}
	assertTables(t, c, "after emptying a window")
}

// newestPerCohort keeps of rows (ordered by cohort and publish time, as
// storedEnrichment returns them) the last of each cohort: what readers
// see, before or after merges.
func newestPerCohort(rows []EnrichmentRow) []EnrichmentRow {
	var out []EnrichmentRow
	for i, r := range rows {
		if i+1 == len(rows) || rows[i+1].CohortID != r.CohortID {
			out = append(out, r)
		}
	}
	return out
}

// assertTables checks that the published database holds its own tables
// and views and nothing else: no staging table left behind.
func assertTables(t *testing.T, c *Client, when string) {
	t.Helper()
	want := "cohort_enrichment cohort_enrichment_current cohort_enrichment_latest cohort_latest feature_dictionary feature_noise published_releases"
	tables := "system.tables"
	if c.cfg.Cluster != "" { // every node's: a staging table stays on the replica that swapped
		tables = "cluster('" + c.cfg.Cluster + "', system.tables)"
		want = "cohort_enrichment cohort_enrichment_current cohort_enrichment_latest cohort_enrichment_local cohort_latest cohort_latest_local feature_dictionary feature_noise published_releases"
	}
	rows, err := c.conn.Query(t.Context(), "SELECT DISTINCT name FROM "+tables+" WHERE database = ? ORDER BY name", c.cfg.PublishedDatabase)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	if strings.Join(names, " ") != want {
		t.Errorf("%s the published database holds %v, want only %s", when, names, want)
	}
}

// latestView returns cohort_enrichment_latest by cohort id.
func latestView(t *testing.T, c *Client) map[uint64]EnrichmentRow {
	t.Helper()
	rows, err := c.conn.Query(t.Context(), "SELECT cohort_id, window_start, window_end, cohort_key, level, users, features, feature_set, release, published_at FROM "+
		c.cfg.PublishedDatabase+".cohort_enrichment_latest")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[uint64]EnrichmentRow{}
	for rows.Next() {
		var r EnrichmentRow
		if err := rows.Scan(&r.CohortID, &r.WindowStart, &r.WindowEnd, &r.CohortKey, &r.Level, &r.Users, &r.Features, &r.FeatureSet, &r.Release, &r.PublishedAt); err != nil {
			t.Fatal(err)
		}
		r.WindowStart, r.WindowEnd, r.PublishedAt = r.WindowStart.UTC(), r.WindowEnd.UTC(), r.PublishedAt.UTC()
		out[r.CohortID] = r
	}
	return out
}

// TestReplaceEnrichmentWindowRefuses: rows of another window, before
// touching the server.
func TestReplaceEnrichmentWindowRefuses(t *testing.T) {
	single, err := open(Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer single.Close()
	rows := []EnrichmentRow{enrichment(window, 1, "k", 60, window)}
	for _, tc := range []struct {
		name      string
		start     time.Time
		end       time.Time
		rows      []EnrichmentRow
		wantError string
	}{
		{"row of another window", window.Add(time.Hour), window.Add(2 * time.Hour), rows, "not of the window replaced"},
		{"row with another end", window, window.Add(2 * time.Hour), rows, "not of the window replaced"},
		{"window backwards", window, window, nil, "window end"},
		{"half a second", window.Add(time.Millisecond), window.Add(time.Hour), nil, "window start"},
	} {
		err := single.ReplaceEnrichmentWindow(t.Context(), tc.start, tc.end, tc.rows, nil)
		if err == nil || !strings.Contains(err.Error(), tc.wantError) {
			t.Errorf("%s: %v, want an error naming %q", tc.name, err, tc.wantError)
		}
	}
}

// TestReplaceEnrichmentWindowOnCluster runs TestReplaceEnrichmentWindow's
// scenario on the 2x2 cluster of deploy/dev (cohort_enrichment a
// Distributed table over cohort_enrichment_local, sharded by cohort_id,
// its cohorts on both shards), then checks where the rows are: each on
// the shard that the Distributed table puts its cohort on, both replicas
// of a shard alike, and no staging table on any node.
func TestReplaceEnrichmentWindowOnCluster(t *testing.T) {
	nodes, cluster := devenv.ClickHouseCluster(t)
	cfg := testConfig(t)
	cfg.Addr, cfg.Cluster = nodes, cluster
	c := migratedClient(t, cfg)
	replaceScenario(t, c)

	syncReplicas(t, nodes, cfg.PublishedDatabase+".cohort_enrichment_local")
	shards, err := c.clusterShards(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(shards) != 2 {
		t.Fatalf("cluster %s has %d shards, want the 2 of deploy/dev", cluster, len(shards))
	}
	var total uint64
	for _, sh := range shards {
		total += uint64(sh.weight)
	}
	held := map[uint64]bool{}
	for i, sh := range shards {
		var replicas [][]uint64
		for _, node := range sh.replicas {
			nc := nodeClient(t, node)
			ids, err := queryValues[uint64](t.Context(), nc, "SELECT cohort_id FROM "+cfg.PublishedDatabase+".cohort_enrichment_local ORDER BY cohort_id, published_at")
			if err != nil {
				t.Fatal(err)
			}
			for _, id := range ids {
				held[id] = true
				if shardOf(shards, total, id) != i {
					t.Errorf("%s (shard %d) holds cohort %d, which the Distributed table puts on shard %d", node, sh.num, id, shards[shardOf(shards, total, id)].num)
				}
			}
			replicas = append(replicas, ids)
		}
		if len(replicas) == 2 && !slices.Equal(replicas[0], replicas[1]) {
			t.Errorf("the replicas of shard %d differ: %v and %v", sh.num, replicas[0], replicas[1])
		}
	}
	on := map[int]bool{}
	for id := range held {
		on[shardOf(shards, total, id)] = true
	}
	if len(on) != 2 {
		t.Errorf("the scenario's cohorts %v are not on both shards: the test shows nothing about a replace across shards", held)
	}
}

// syncReplicas makes every node's replica of each table (db.name) catch
// up with its peer.
func syncReplicas(t *testing.T, nodes []string, tables ...string) {
	t.Helper()
	for _, node := range nodes {
		nc := nodeClient(t, node)
		for _, table := range tables {
			if err := nc.exec(t.Context(), "SYSTEM SYNC REPLICA "+table); err != nil {
				t.Fatalf("syncing %s on %s: %v", table, node, err)
			}
		}
	}
}

// nodeClient is a client of one server of the cluster, for statements
// that name their tables; it creates and drops nothing.
func nodeClient(t *testing.T, node string) *Client {
	t.Helper()
	c, err := open(Config{Addr: []string{node}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}
