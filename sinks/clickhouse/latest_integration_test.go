package clickhouse

import (
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/cohortline/cohortline/cohorts"
	"github.com/cohortline/cohortline/cohorts/publish"
	"github.com/cohortline/cohortline/deploy/devenv"
)

// TestLatest: cohort_latest through publish's own writes
// (PublishStore.WriteRows) on 18.16: after every publish, republish,
// backfill withdrawal, crash and retention it holds exactly what the old
// view over cohort_enrichment shows.
func TestLatest(t *testing.T) {
	latestScenario(t, migratedClient(t, testConfig(t)))
}

// TestLatestCluster: the same on the 2x2 cluster, where cohort_latest is
// sharded by cohort id like cohort_enrichment and rebuilt shard by shard.
func TestLatestCluster(t *testing.T) {
	nodes, cluster := devenv.ClickHouseCluster(t)
	cfg := testConfig(t)
	cfg.Addr, cfg.Cluster = nodes, cluster
	latestScenario(t, migratedClient(t, cfg))
}

// latestPublisher publishes windows of the default spec as publish does:
// the release's published_releases row, then PublishStore.WriteRows.
type latestPublisher struct {
	t     *testing.T
	c     *Client
	store PublishStore
	spec  cohorts.Spec
	at    time.Time // publish times, one second apart
}

func (p *latestPublisher) publish(ws time.Time, replace bool, rows map[string]uint64) time.Time {
	p.t.Helper()
	p.at = p.at.Add(time.Second)
	w := cohorts.Window{Start: ws.UnixMilli(), End: ws.Add(time.Hour).UnixMilli()}
	if err := p.c.AppendPublishedRelease(p.t.Context(), PublishedRelease{WindowStart: ws, WindowEnd: ws.Add(time.Hour), Release: "r1", PublishedAt: p.at, Mode: "production"}); err != nil {
		p.t.Fatal(err)
	}
	var out []publish.Row
	for key, users := range rows {
		k, err := cohorts.ParseKey(p.spec, key)
		if err != nil {
			p.t.Fatal(err)
		}
		out = append(out, publish.Row{Window: w, Key: k, ID: k.ID(), Users: users, Features: []float32{float32(users), 1}, FeatureSet: 1})
	}
	if err := p.store.WriteRows(p.t.Context(), nil, w, out, "r1", p.at, replace); err != nil {
		p.t.Fatal(err)
	}
	return p.at
}

// latestRows reads the whole of cohort_latest as lookups see it (FINAL)
// and the old view over cohort_enrichment, by cohort key.
func latestRows(t *testing.T, c *Client) (table, view map[string]string) {
	t.Helper()
	if c.cfg.Cluster != "" { // reads through the Distributed tables may meet a lagging replica
		pub := c.cfg.PublishedDatabase
		if err := c.syncEveryReplica(t.Context(), pub+".cohort_latest_local", pub+".cohort_enrichment_local"); err != nil {
			t.Fatal(err)
		}
	}
	read := func(from string) map[string]string {
		rows, err := c.queryEnrichment(t.Context(), "SELECT "+viewColumns+" FROM "+c.cfg.PublishedDatabase+"."+from)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, r := range rows {
			out[r.CohortKey] = fmt.Sprintf("%s users %d at %s", r.WindowStart.Format("15:04"), r.Users, r.PublishedAt.Format("15:04:05"))
		}
		return out
	}
	return read("cohort_latest FINAL"), read("cohort_enrichment_latest")
}

func latestScenario(t *testing.T, c *Client) {
	ctx := t.Context()
	spec := cohorts.DefaultSpec()
	p := &latestPublisher{t: t, c: c, store: c.PublishStore(LeaseConfig{Holder: "test"}), spec: spec, at: window.Add(3 * time.Hour)}
	const (
		a = "country=BR|lang=pt|age=25-34|platform=android"
		b = "country=BR|lang=pt|age=25-34|platform=*"
		d = "country=US|lang=en|age=18-24|platform=ios"
		e = "country=*|lang=*|age=*|platform=*"
	)
	w0, w1, w2 := window, window.Add(time.Hour), window.Add(24*time.Hour) // w2 on the next day
	step := func(when string, want map[string]string) {
		t.Helper()
		table, view := latestRows(t, c)
		if !reflect.DeepEqual(table, view) {
			t.Errorf("%s: cohort_latest\n%v\ndiffers from the old view over cohort_enrichment\n%v", when, table, view)
		}
		if !reflect.DeepEqual(table, want) {
			t.Errorf("%s: cohort_latest\n%v\nwant\n%v", when, table, want)
		}
		assertTables(t, c, when)
	}
	hm := func(ts time.Time) string { return ts.Format("15:04:05") }

	p0 := p.publish(w0, false, map[string]uint64{a: 50, b: 60, d: 70})
	p1 := p.publish(w1, false, map[string]uint64{a: 51, b: 61})
	p2 := p.publish(w2, false, map[string]uint64{a: 52})
	step("publish of three windows", map[string]string{
		a: "10:00 users 52 at " + hm(p2), b: "11:00 users 61 at " + hm(p1), d: "10:00 users 70 at " + hm(p0)})

	// A republish of the oldest window (stragglers): d is newer there, a
	// and b keep their newer windows.
	p3 := p.publish(w0, false, map[string]uint64{a: 53, b: 63, d: 73})
	step("republish of an older window", map[string]string{
		a: "10:00 users 52 at " + hm(p2), b: "11:00 users 61 at " + hm(p1), d: "10:00 users 73 at " + hm(p3)})

	// A republish after a backfill that drops b from w1 (merged upward):
	// b goes back to its w0 row; a new cohort of w1 appears.
	p4 := p.publish(w1, true, map[string]uint64{a: 54, e: 500})
	step("republish dropping a cohort", map[string]string{
		a: "10:00 users 52 at " + hm(p2), b: "10:00 users 63 at " + hm(p3), d: "10:00 users 73 at " + hm(p3), e: "11:00 users 500 at " + hm(p4)})

	// A backfill that emptied w2: a goes back to w1.
	p.publish(w2, true, nil)
	step("window emptied by a backfill", map[string]string{
		a: "11:00 users 54 at " + hm(p4), b: "10:00 users 63 at " + hm(p3), d: "10:00 users 73 at " + hm(p3), e: "11:00 users 500 at " + hm(p4)})
	if n, err := c.RepairLatest(ctx, nil); err != nil || n != 0 {
		t.Errorf("RepairLatest with nothing to repair = %d, %v; want 0", n, err)
	}

	// A crash after cohort_enrichment got w2's rows, before cohort_latest:
	// the next session's RepairLatest copies them.
	p6 := p.at.Add(time.Second)
	crashed := []EnrichmentRow{enrichment(w2, keyID(t, spec, a), a, 56, p6)}
	p.at = p6
	publishedOnly(t, c, crashed)
	if n, err := c.RepairLatest(ctx, nil); err != nil || n != 1 {
		t.Errorf("RepairLatest after a crash = %d, %v; want 1 cohort fixed", n, err)
	}
	step("repair after a crash", map[string]string{
		a: "10:00 users 56 at " + hm(p6), b: "10:00 users 63 at " + hm(p3), d: "10:00 users 73 at " + hm(p3), e: "11:00 users 500 at " + hm(p4)})

	// A crash after a replace swapped w1 without a and e, before
	// cohort_latest was brought in line: RepairLatest derives them again.
	p7 := p.at.Add(time.Second)
	p.at = p7
	if err := c.AppendPublishedRelease(ctx, PublishedRelease{WindowStart: w1, WindowEnd: w1.Add(time.Hour), Release: "r1", PublishedAt: p7, Mode: "production"}); err != nil {
		t.Fatal(err)
	}
	if err := c.ReplaceEnrichmentWindow(ctx, w1, w1.Add(time.Hour), nil, nil); err != nil {
		t.Fatal(err)
	}
	if n, err := c.RepairLatest(ctx, nil); err != nil || n != 1 {
		t.Errorf("RepairLatest after a crashed replace = %d, %v; want 1 cohort (e) fixed", n, err)
	}
	step("repair after a crashed replace", map[string]string{
		a: "10:00 users 56 at " + hm(p6), b: "10:00 users 63 at " + hm(p3), d: "10:00 users 73 at " + hm(p3)})

	// Retention of the first day: b and d had no window after it.
	dropped, err := c.DropPartitionsBefore(ctx, w2.Truncate(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if want := c.cfg.PublishedDatabase + ".cohort_latest 2 cohorts"; !slices.Contains(dropped, want) {
		t.Errorf("DropPartitionsBefore = %v, want it to name %q", dropped, want)
	}
	step("retention of the first day", map[string]string{a: "10:00 users 56 at " + hm(p6)})
	if again, err := c.DropPartitionsBefore(ctx, w2.Truncate(24*time.Hour)); err != nil || len(again) != 0 {
		t.Errorf("retention again = %v, %v; want nothing", again, err)
	}
	if got, err := c.ReadEnrichment(ctx, []uint64{keyID(t, spec, a), keyID(t, spec, b)}, time.Time{}); err != nil || len(got) != 1 || got[0].CohortKey != a {
		t.Errorf("ReadEnrichment after retention = %+v, %v; want a only", got, err)
	}
}

func keyID(t *testing.T, spec cohorts.Spec, key string) uint64 {
	t.Helper()
	k, err := cohorts.ParseKey(spec, key)
	if err != nil {
		t.Fatal(err)
	}
	return k.ID()
}

// publishedOnly writes rows as a publish that crashed before the lookup
// table: the release and cohort_enrichment, not cohort_latest.
func publishedOnly(t *testing.T, c *Client, rows []EnrichmentRow) {
	t.Helper()
	markReleased(t, c, rows)
	if err := c.WriteEnrichment(t.Context(), rows); err != nil {
		t.Fatal(err)
	}
}
