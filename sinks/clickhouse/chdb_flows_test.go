package clickhouse

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/cohortline/cohortline/cohorts"
	"github.com/cohortline/cohortline/schemas"
)

// The flows of TestChDB that have no 18.16 scenario function to share:
// the same calls and checks as the integration tests, shorter.

// chdbPartials: flushes, a re-flush, a backfill before and after its
// commit, and every read of partials and progress.
func chdbPartials(t *testing.T, c *Client) {
	ctx := t.Context()
	w := c.Writer()
	next := window.Add(time.Hour)
	flushes := map[schemas.Flush][]partial{
		progressOf(window, "activity", 0, 1, 0): {{cohort: 1, users: 3, events: 10, values: []uint64{1, 2, 3}}, {cohort: 2, users: 1, events: 1, values: []uint64{0, 0, 1}}},
		progressOf(window, "activity", 1, 1, 0): {{cohort: 1, users: 2, events: 4, values: []uint64{0, 1, 0}}},
		progressOf(next, "activity", 0, 2, 0):   {{cohort: 3, users: 5, events: 50, values: []uint64{5, 5, 5}}},
	}
	for p, rows := range flushes {
		write(t, w, p, rows)
	}
	checkCurrent(t, c, window, next.Add(time.Hour), sums(flushes))

	// A re-flush of partition 1 replaces its rows, even of a cohort it no
	// longer has.
	delete(flushes, progressOf(window, "activity", 1, 1, 0))
	reflush := progressOf(window, "activity", 1, 3, 0)
	flushes[reflush] = []partial{{cohort: 4, users: 7, events: 7, values: []uint64{7, 0, 0}}}
	write(t, w, reflush, flushes[reflush])
	checkCurrent(t, c, window, next.Add(time.Hour), sums(flushes))
	if n := queryUint64(t, c, "SELECT count() FROM "+c.cfg.Database+".cohort_partials_current"); n != 4 {
		t.Errorf("cohort_partials_current has %d rows, want 4", n)
	}

	p, ok, err := c.Writer().LastFlush(ctx, "activity", 0)
	if err != nil || !ok || p.Version != 2 || p.WindowStart != next.UnixMilli() {
		t.Errorf("LastFlush(0) = %+v, %v, %v; want version 2 of %s", p, ok, err, next)
	}
	if _, ok, err := c.Writer().LastFlush(ctx, "activity", 9); err != nil || ok {
		t.Errorf("LastFlush of a partition never flushed: %v, %v", ok, err)
	}
	flushed, err := c.FlushedWindows(ctx, "activity", time.Now().Add(-time.Hour))
	if err != nil || len(flushed) != 2 || !flushed[0].Start.Equal(window) || !flushed[1].Start.Equal(next) {
		t.Errorf("FlushedWindows = %+v, %v; want %s and %s", flushed, err, window, next)
	}
	marks, err := c.PartitionWatermarks(ctx, "activity")
	wantMarks := map[int32]int64{0: next.Add(65*time.Minute + 7*time.Millisecond).UnixMilli(), 1: window.Add(65*time.Minute + 7*time.Millisecond).UnixMilli()}
	if err != nil || !reflect.DeepEqual(marks, wantMarks) {
		t.Errorf("PartitionWatermarks = %v, %v; want %v", marks, err, wantMarks)
	}

	// A backfill of the first window: unseen until committed, then it
	// replaces both partitions' flushes, the empty one included.
	version := schemas.FirstBackfillVersion | 1
	bf0 := progressOf(window, "activity", 0, version, 1)
	rows := []partial{{cohort: 5, users: 9, events: 9, values: []uint64{9, 9, 9}}}
	bf0, err = w.WriteBackfillPartials(ctx, record(t, bf0, rows), bf0)
	if err != nil {
		t.Fatal(err)
	}
	bf1 := progressOf(window, "activity", 1, version, 0)
	if bf1, err = w.WriteBackfillPartials(ctx, record(t, bf1, nil), bf1); err != nil {
		t.Fatal(err)
	}
	checkCurrent(t, c, window, next.Add(time.Hour), sums(flushes))
	if err := w.CommitBackfill(ctx, []schemas.Flush{bf0, bf1}); err != nil {
		t.Fatal(err)
	}
	after := map[schemas.Flush][]partial{bf0: rows, progressOf(next, "activity", 0, 2, 0): flushes[progressOf(next, "activity", 0, 2, 0)]}
	checkCurrent(t, c, window, next.Add(time.Hour), sums(after))
}

// chdbLedger: ledger rows round-trip (a repeat counts once), the last
// release per window, published releases and their modes.
func chdbLedger(t *testing.T, c *Client) {
	ctx := t.Context()
	w1 := window.Add(time.Hour)
	first := ledgerRow(window, "spec1-aaa-fs1", w1.Add(time.Minute))
	again := ledgerRow(window, "spec1-aaa-fs1", w1.Add(time.Hour))
	again.Republish, again.EpsilonSpent = true, 0
	other := ledgerRow(w1, "spec1-aaa-fs1", w1.Add(2*time.Hour))
	for _, r := range []LedgerRow{first, again, other, first} {
		if err := c.AppendLedger(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	got, err := c.Ledger(ctx, window, w1)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []*LedgerRow{&first, &again} {
		r.ReleasedAt = r.ReleasedAt.UTC()
	}
	if want := []LedgerRow{first, again}; !reflect.DeepEqual(got, want) {
		t.Errorf("Ledger =\n%+v\nwant\n%+v", got, want)
	}
	last, err := c.LastReleases(ctx, "spec1-aaa-fs1", window)
	if want := map[time.Time]time.Time{window: again.ReleasedAt, w1: other.ReleasedAt.UTC()}; err != nil || !reflect.DeepEqual(last, want) {
		t.Errorf("LastReleases = %v, %v; want %v", last, err, want)
	}
	if modes, err := c.PublishedModes(ctx); err != nil || len(modes) != 0 {
		t.Errorf("PublishedModes of no release = %v, %v", modes, err)
	}
	for _, mode := range []string{"production", "test", "production"} {
		r := PublishedRelease{WindowStart: window, WindowEnd: w1, Release: "r1", PublishedAt: w1, Mode: mode}
		if err := c.AppendPublishedRelease(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if modes, err := c.PublishedModes(ctx); err != nil || !slices.Equal(modes, []string{"production", "test"}) {
		t.Errorf("PublishedModes = %v, %v; want production and test", modes, err)
	}
}

// chdbLease: taken, checked, refused to a second publisher, released.
func chdbLease(t *testing.T, c *Client) {
	ctx := t.Context()
	if cur, err := c.CurrentLease(ctx); err != nil || cur.Token != 0 {
		t.Fatalf("a fresh database's lease: %+v, %v", cur, err)
	}
	a := acquire(t, c, leaseConfig("publish@chdb-a:1:aaaa"))
	if err := a.Check(ctx); err != nil || a.Token() != 1 {
		t.Fatalf("first lease: token %d, check %v", a.Token(), err)
	}
	if _, err := c.AcquireLease(ctx, leaseConfig("publish@chdb-b:2:bbbb")); !errors.Is(err, ErrLeaseHeld) {
		t.Errorf("a second publisher: %v, want ErrLeaseHeld", err)
	}
	if err := a.Release(context.WithoutCancel(ctx)); err != nil {
		t.Fatal(err)
	}
	cur, err := c.CurrentLease(ctx)
	if err != nil || !cur.Released || cur.Token != 1 {
		t.Errorf("after release: %+v, %v", cur, err)
	}
	b := acquire(t, c, leaseConfig("publish@chdb-b:2:bbbb"))
	if b.Token() != 2 {
		t.Errorf("the next lease has token %d, want 2", b.Token())
	}
	// Republish under the lease, as publish does: checked before and
	// after the swap.
	rows := []EnrichmentRow{enrichment(window, 1, "a", 60, window.Add(2*time.Hour))}
	publishRows(t, c, rows)
	rows[0].Users, rows[0].PublishedAt = 61, window.Add(3*time.Hour)
	markReleased(t, c, rows)
	if err := c.ReplaceEnrichmentWindow(ctx, window, window.Add(time.Hour), rows, b); err != nil {
		t.Fatal(err)
	}
	if got := storedEnrichment(t, c, windowIs(window)); !reflect.DeepEqual(got, rows) {
		t.Errorf("republished under the lease: %+v, want %+v", got, rows)
	}
}

// chdbEnrichment: the dictionary, published rows and their reads.
func chdbEnrichment(t *testing.T, c *Client) {
	ctx := t.Context()
	dict := []DictionaryEntry{
		{FeatureSet: 1, Index: 0, Name: "reach.kind.call", Description: "Users who called", Unit: "users"},
		{FeatureSet: 1, Index: 1, Name: "sum.kind.call", Description: "Calls", Unit: "events"},
	}
	for range 2 {
		if err := c.WriteFeatureDictionary(ctx, dict); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := c.FeatureDictionary(ctx, 1); err != nil || !reflect.DeepEqual(got, dict) {
		t.Errorf("FeatureDictionary = %+v, %v", got, err)
	}
	w1 := window.Add(time.Hour)
	rows := []EnrichmentRow{
		enrichment(window, 1, "a", 60, w1),
		enrichment(w1, 1, "a", 61, w1.Add(time.Hour)),
		enrichment(w1, 1, "a", 62, w1.Add(2*time.Hour)), // a republish: the newest wins
		enrichment(window, 2, "b", 70, w1),
	}
	publishRows(t, c, rows)
	if got, err := c.ReadEnrichment(ctx, []uint64{1, 2, 3}, time.Time{}); err != nil || !reflect.DeepEqual(got, []EnrichmentRow{rows[2], rows[3]}) {
		t.Errorf("ReadEnrichment(newest) = %+v, %v", got, err)
	}
	if got, err := c.ReadEnrichment(ctx, []uint64{1, 2}, window); err != nil || !reflect.DeepEqual(got, []EnrichmentRow{rows[0], rows[3]}) {
		t.Errorf("ReadEnrichment(%s) = %+v, %v", window, got, err)
	}
	if got := publishedCohorts(t, c, window); !slices.Equal(got, []uint64{1, 2}) {
		t.Errorf("PublishedCohorts = %v", got)
	}
	chdbLookup(t, c, w1)
}

// chdbLookup: of a person's chain only the cohort one level up is
// published, in window w; Lookup finds it, and nothing in another window.
func chdbLookup(t *testing.T, c *Client, w time.Time) {
	ctx := t.Context()
	spec := cohorts.DefaultSpec()
	finest, err := cohorts.ParseKey(spec, "country=BR|lang=pt|age=25-34|platform=android")
	if err != nil {
		t.Fatal(err)
	}
	var up cohorts.Key
	for level, k := range spec.Ancestors(finest) {
		if level == 1 {
			up = k
		}
	}
	row := enrichment(w, up.ID(), up.String(), 80, w.Add(time.Hour))
	publishRows(t, c, []EnrichmentRow{row})
	if got, err := c.Lookup(ctx, spec, finest, time.Time{}); err != nil || got.Level != 1 || got.Levels != len(spec.Generalize) || !reflect.DeepEqual(got.Row, row) {
		t.Errorf("Lookup(newest) = %+v, %v; want level 1 of %d, %+v", got, err, len(spec.Generalize), row)
	}
	var nf *NotFoundError
	if _, err := c.Lookup(ctx, spec, finest, window); !errors.As(err, &nf) {
		t.Errorf("Lookup(%s), no row in that window = %v, want a NotFoundError", window, err)
	}
}

// chdbRetention: the days before the cutoff go from every daily table.
func chdbRetention(t *testing.T, c *Client) {
	ctx := t.Context()
	day2 := window.Add(24 * time.Hour)
	for _, ws := range []time.Time{window, day2} {
		write(t, c.Writer(), progressOf(ws, "activity", 0, 1, 0), []partial{{cohort: 1, users: 1, events: 1, values: []uint64{1}}})
		publishRows(t, c, []EnrichmentRow{enrichment(ws, 1, "a", 60, ws.Add(2*time.Hour))})
	}
	want := []string{
		c.cfg.Database + ".window_progress 20261101",
		c.cfg.Database + ".cohort_partials 20261101",
		c.cfg.PublishedDatabase + ".cohort_enrichment 20261101",
	}
	if listed, err := c.PartitionsBefore(ctx, day2); err != nil || !slices.Equal(listed, want) {
		t.Errorf("PartitionsBefore = %v, %v; want %v", listed, err, want)
	}
	dropped, err := c.DropPartitionsBefore(ctx, day2)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(dropped, want) {
		t.Errorf("DropPartitionsBefore = %v, want %v", dropped, want)
	}
	if again, err := c.DropPartitionsBefore(ctx, day2); err != nil || len(again) != 0 {
		t.Errorf("dropping again: %v, %v", again, err)
	}
	if got := storedEnrichment(t, c, "1"); len(got) != 1 || !got[0].WindowStart.Equal(day2) {
		t.Errorf("after retention cohort_enrichment holds %+v, want the second day only", got)
	}
}
