package clickhouse

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/cohortline/cohortline/deploy/devenv"
)

func TestDropPartitionsBeforeDropsOnlyOlderDays(t *testing.T) {
	retentionScenario(t, migratedClient(t, testConfig(t)))
}

// TestDropPartitionsBeforeOnCluster: the same on the 2x2 cluster of
// deploy/dev, where the days live in each shard's _local tables and
// retention drops them ON CLUSTER.
func TestDropPartitionsBeforeOnCluster(t *testing.T) {
	nodes, cluster := devenv.ClickHouseCluster(t)
	cfg := testConfig(t)
	cfg.Addr, cfg.Cluster = nodes, cluster
	retentionScenario(t, migratedClient(t, cfg))
}

// retentionScenario writes five days, drops those before the fourth and
// checks what is left, on a migrated client.
func retentionScenario(t *testing.T, c *Client) {
	settle := func() { // see replaceScenario
		if c.cfg.Cluster != "" {
			syncReplicas(t, c.cfg.Addr, c.cfg.Database+".window_progress_local", c.cfg.Database+".cohort_partials_local",
				c.cfg.Database+".backfill_progress_local", c.cfg.PublishedDatabase+".cohort_enrichment_local")
		}
	}
	w := c.Writer()
	days := []time.Time{
		time.Date(2026, 10, 30, 23, 0, 0, 0, time.UTC),
		time.Date(2026, 10, 31, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 10, 31, 23, 0, 0, 0, time.UTC),
		time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), // the cutoff day: kept
		time.Date(2026, 11, 2, 5, 0, 0, 0, time.UTC),
	}
	for _, ws := range days {
		write(t, w, progressOf(ws, "activity", 0, 1, 0), []partial{{cohort: 1, users: 1, events: 1, values: []uint64{1}}})
	}
	enrich, err := c.conn.PrepareBatch(t.Context(), "INSERT INTO "+c.cfg.PublishedDatabase+
		".cohort_enrichment (window_start, window_end, cohort_id, cohort_key, level, users, features, feature_set, release, published_at)")
	if err != nil {
		t.Fatal(err)
	}
	for _, ws := range days {
		if err := enrich.Append(ws, ws.Add(time.Hour), uint64(1), "country=BR|lang=*|age=*|platform=*", "lang,age,platform", uint64(60), []float32{1.5}, uint16(1), "r1", ws.Add(2*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	if err := enrich.Send(); err != nil {
		t.Fatal(err)
	}
	settle()

	// Any time of the cutoff day means that day.
	cutoff := time.Date(2026, 11, 1, 17, 30, 0, 0, time.FixedZone("UTC+2", 2*3600))
	listed, err := c.PartitionsBefore(t.Context(), cutoff)
	if err != nil {
		t.Fatal(err)
	}
	if n := queryUint64(t, c, "SELECT count() FROM "+c.cfg.PublishedDatabase+".cohort_enrichment"); n != uint64(len(days)) {
		t.Errorf("listing dropped rows: cohort_enrichment keeps %d of %d", n, len(days))
	}
	dropped, err := c.DropPartitionsBefore(t.Context(), cutoff)
	if err != nil {
		t.Fatal(err)
	}
	settle()
	var want []string
	for _, table := range []string{c.cfg.Database + ".window_progress", c.cfg.Database + ".cohort_partials", c.cfg.PublishedDatabase + ".cohort_enrichment"} {
		want = append(want, table+c.localName("")+" 20261030", table+c.localName("")+" 20261031")
	}
	if !reflect.DeepEqual(dropped, want) || !reflect.DeepEqual(listed, want) {
		t.Errorf("dropped %v\nlisted  %v\nwant    %v", dropped, listed, want)
	}
	for _, table := range []string{"cohort_partials", "window_progress"} {
		q := fmt.Sprintf("SELECT count() FROM %s.%s WHERE toDate(window_start) < '2026-11-01'", c.cfg.Database, table)
		if n := queryUint64(t, c, q); n != 0 {
			t.Errorf("%s keeps %d rows of dropped days", table, n)
		}
	}
	got, err := c.CurrentPartials(t.Context(), days[0], days[4].Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !got[0].WindowStart.Equal(days[3]) || !got[1].WindowStart.Equal(days[4]) {
		t.Errorf("after retention CurrentPartials has %+v, want the windows of 2026-11-01 and 2026-11-02", got)
	}
	if n := queryUint64(t, c, "SELECT count() FROM "+c.cfg.PublishedDatabase+".cohort_enrichment"); n != 2 {
		t.Errorf("cohort_enrichment keeps %d rows, want 2", n)
	}

	again, err := c.DropPartitionsBefore(t.Context(), cutoff)
	if err != nil || len(again) != 0 {
		t.Errorf("second run dropped %v, %v; want nothing", again, err)
	}
}
