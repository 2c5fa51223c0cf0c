package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"

	"github.com/cohortline/cohortline/schemas"
)

// holdSender makes w's queue look busy, so that flushes queue up behind an
// insert that is not happening; release starts the sender, which takes
// everything queued as one group.
func holdSender(w *Writer) (release func()) {
	w.queue.mu.Lock()
	w.queue.sending = true
	w.queue.mu.Unlock()
	return func() { go w.sendGroups() }
}

// waitQueued waits until n flushes wait in w's queue.
func waitQueued(t *testing.T, w *Writer, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		w.queue.mu.Lock()
		queued := len(w.queue.waiting)
		w.queue.mu.Unlock()
		if queued == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d flushes queued after 10 s, want %d", queued, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// writeAsync writes a flush from its own goroutine, as a partition worker
// would, and returns where its result will arrive. p.Rows must be
// len(rows).
func writeAsync(t *testing.T, ctx context.Context, w *Writer, p schemas.Flush, rows []partial) <-chan error {
	rec := record(t, p, rows)
	done := make(chan error, 1)
	go func() { done <- w.WritePartials(ctx, rec, p) }()
	return done
}

func TestFlushesArrivingTogetherShareOneInsert(t *testing.T) {
	c := migratedClient(t, testConfig(t))
	w := c.Writer()
	release := holdSender(w)

	flushes := map[schemas.Flush][]partial{}
	var results []<-chan error
	for partition := range int32(8) {
		p := progressOf(window, "activity", partition, 40+uint64(partition), 0)
		var rows []partial
		for cohort := range uint64(partition) * 3 { // partition 0 flushes no cohort: a progress row only
			rows = append(rows, partial{cohort: cohort + 1, users: uint64(partition) + 1, events: 2 * (uint64(partition) + 1), values: []uint64{cohort, uint64(partition), 7}})
		}
		p.Rows = len(rows)
		flushes[p] = rows
		results = append(results, writeAsync(t, t.Context(), w, p, rows))
	}
	waitQueued(t, w, 8)
	release()
	for i, done := range results {
		if err := <-done; err != nil {
			t.Fatalf("flush %d: %v", i, err)
		}
	}

	if got := w.Stats(); got != (WriterStats{Flushes: 8, Inserts: 1}) {
		t.Errorf("Stats() = %+v, want the 8 flushes in 1 insert", got)
	}
	parts := queryUint64(t, c, "SELECT count() FROM system.parts WHERE active AND database = '"+c.cfg.Database+"' AND table = 'cohort_partials'")
	if parts != 1 {
		t.Errorf("cohort_partials has %d parts, want the 1 of the one insert", parts)
	}
	if n := queryUint64(t, c, "SELECT count() FROM "+c.cfg.Database+".window_progress"); n != 8 {
		t.Errorf("window_progress has %d rows, want one per flush, 8", n)
	}
	checkCurrent(t, c, window, window.Add(time.Hour), sums(flushes))
	for p := range flushes {
		got, ok, err := c.Writer().LastFlush(t.Context(), "activity", p.Partition)
		if err != nil || !ok {
			t.Fatalf("LastFlush of partition %d: %v, %v", p.Partition, ok, err)
		}
		if got.Version != p.Version || got.Rows != p.Rows || got.Watermark != p.Watermark {
			t.Errorf("LastFlush of partition %d = %s, want %s", p.Partition, got, p)
		}
	}
}

func TestFlushGivenUpBeforeItsInsertIsNotWritten(t *testing.T) {
	c := migratedClient(t, testConfig(t))
	w := c.Writer()
	release := holdSender(w)

	abandoned := progressOf(window, "activity", 0, 1, 1)
	ctx, cancel := context.WithCancel(t.Context())
	gaveUp := writeAsync(t, ctx, w, abandoned, []partial{{cohort: 1, users: 5, events: 5, values: []uint64{5}}})
	kept := progressOf(window, "activity", 1, 1, 1)
	keptRows := []partial{{cohort: 1, users: 2, events: 3, values: []uint64{4}}}
	done := writeAsync(t, t.Context(), w, kept, keptRows)
	waitQueued(t, w, 2)

	cancel()
	if err := <-gaveUp; !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), abandoned.String()) {
		t.Fatalf("the abandoned flush returned %v, want context.Canceled naming %s", err, abandoned)
	}
	waitQueued(t, w, 1) // withdrawn
	release()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	checkCurrent(t, c, window, window.Add(time.Hour), sums(map[schemas.Flush][]partial{kept: keptRows}))
	if n := queryUint64(t, c, "SELECT count() FROM "+c.cfg.Database+".cohort_partials WHERE partition = 0"); n != 0 {
		t.Errorf("%d rows of the abandoned flush were written", n)
	}
	if got := w.Stats(); got != (WriterStats{Flushes: 1, Inserts: 1}) {
		t.Errorf("Stats() = %+v, want 1 flush in 1 insert", got)
	}
}

// TestGroupOutlivesOneCallerGivingUp: a worker that loses its partition
// while its flush is being retried (ClickHouse away) must not fail the
// flushes of the workers it shares the insert with; once every caller has
// given up, the sender stops trying.
func TestGroupOutlivesOneCallerGivingUp(t *testing.T) {
	c, proxy := clientBehindProxy(t)
	w := c.Writer()

	proxy.stop()
	release := holdSender(w)
	revokedCtx, revoke := context.WithCancel(t.Context())
	revoked := writeAsync(t, revokedCtx, w, progressOf(window, "activity", 0, 1, 1), []partial{{cohort: 1, users: 1, events: 1, values: []uint64{1}}})
	waitQueued(t, w, 1) // first in the group: its context is the one the group starts from
	stays := progressOf(window, "activity", 1, 1, 1)
	staysRows := []partial{{cohort: 1, users: 2, events: 2, values: []uint64{2}}}
	done := writeAsync(t, t.Context(), w, stays, staysRows)
	waitQueued(t, w, 2)
	release()
	waitQueued(t, w, 0) // taken: both are in the group being retried

	revoke()
	if err := <-revoked; !errors.Is(err, context.Canceled) {
		t.Fatalf("the revoked worker's flush returned %v, want context.Canceled", err)
	}
	time.Sleep(100 * time.Millisecond) // a few retries after the revocation
	proxy.start()
	if err := <-done; err != nil {
		t.Fatalf("the other worker's flush failed with its neighbour's revocation: %v", err)
	}
	// The revoked flush was taken before it gave up, so it was written too:
	// harmless (the next owner re-flushes the same version).
	got, err := c.CurrentPartials(t.Context(), window, window.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Users != 3 {
		t.Errorf("after the outage: %+v, want cohort 1 with the 3 users of both flushes", got)
	}

	// Every caller gives up: the sender must stop retrying and exit.
	proxy.stop()
	ctx, cancel := context.WithCancel(t.Context())
	gone := writeAsync(t, ctx, w, progressOf(window, "activity", 2, 1, 1), []partial{{cohort: 1, users: 1, events: 1, values: []uint64{1}}})
	waitQueued(t, w, 0)
	cancel()
	if err := <-gone; !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		w.queue.mu.Lock()
		sending := w.queue.sending
		w.queue.mu.Unlock()
		if !sending {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the sender still retries 10 s after its only caller gave up")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestGroupFailureNamesEachFlush(t *testing.T) {
	c := migratedClient(t, testConfig(t))
	w := c.Writer()
	release := holdSender(w)
	a := progressOf(window, "activity", 0, 1, 1)
	b := progressOf(window, "activity", 1, 1, 1)
	doneA := writeAsync(t, t.Context(), w, a, []partial{{cohort: 1, users: 1, events: 1, values: []uint64{1}}})
	doneB := writeAsync(t, t.Context(), w, b, []partial{{cohort: 2, users: 1, events: 1, values: []uint64{1}}})
	waitQueued(t, w, 2)
	if err := c.conn.Exec(t.Context(), "DROP TABLE "+c.cfg.Database+".cohort_partials"); err != nil {
		t.Fatal(err)
	}
	release()
	for _, f := range []struct {
		p    schemas.Flush
		done <-chan error
	}{{a, doneA}, {b, doneB}} {
		a, b := fmt.Sprint(<-f.done), "writing partials of "+f.p.String()+" (in one insert with 1 other flushes)"
		if !strings.Contains(a, b) || !strings.Contains(a, "cohort_partials") {
			t.Errorf("error %q, want it to start %q and name the missing table", a, b)
		}
	}
	if got := w.Stats(); got != (WriterStats{}) {
		t.Errorf("Stats() = %+v after a failed insert, want nothing counted", got)
	}
}

// TestManyWorkersFlushingAtOnce writes 8 workers' flushes concurrently,
// without holding the sender: every flush is stored once, whatever the
// grouping.
func TestManyWorkersFlushingAtOnce(t *testing.T) {
	c := migratedClient(t, testConfig(t))
	w := c.Writer()
	const workers, windows = 8, 6
	flushes := map[schemas.Flush][]partial{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for partition := range int32(workers) {
		wg.Go(func() {
			for i := range windows {
				ws := window.Add(time.Duration(i) * time.Hour)
				rows := []partial{{cohort: uint64(i%3) + 1, users: uint64(partition) + 1, events: 10, values: []uint64{uint64(i), 1}}}
				p := progressOf(ws, "activity", partition, uint64(100+i), len(rows))
				mu.Lock()
				flushes[p] = rows
				mu.Unlock()
				if err := w.WritePartials(t.Context(), record(t, p, rows), p); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	checkCurrent(t, c, window, window.Add(windows*time.Hour), sums(flushes))
	st := w.Stats()
	if st.Flushes != workers*windows || st.Inserts < 1 || st.Inserts > st.Flushes {
		t.Errorf("Stats() = %+v, want %d flushes in 1 to %[2]d inserts", st, workers*windows)
	}
	t.Logf("%d flushes in %d inserts", st.Flushes, st.Inserts)
}

// TestGroupColumnsOwnTheirRows: a caller may give up and release its
// record while its group is still being written, so the group's columns
// must not share a byte with the records they came from.
func TestGroupColumnsOwnTheirRows(t *testing.T) {
	var queued []*queuedFlush
	var recs []arrow.Record
	want := &partialColumns{}
	rows := 0
	for partition := range int32(3) {
		p := progressOf(window, "activity", partition, 9, 0)
		var in []partial
		for cohort := range uint64(partition) + 2 {
			in = append(in, partial{cohort: cohort + 10, users: 3, events: 4, values: []uint64{cohort, 1, 2, uint64(partition)}})
		}
		p.Rows = len(in)
		rec := record(t, p, in)
		cols, err := partialColumnsOf(rec, p)
		if err != nil {
			t.Fatal(err)
		}
		queued = append(queued, &queuedFlush{cols: cols, progress: p})
		recs = append(recs, rec)
		rows += cols.rows
		// What the group must hold, copied by hand before the scribbling.
		want.windowStart = append(want.windowStart, cols.windowStart...)
		want.windowEnd = append(want.windowEnd, cols.windowEnd...)
		want.partition = append(want.partition, cols.partition...)
		want.cohortID = append(want.cohortID, cols.cohortID...)
		want.users = append(want.users, cols.users...)
		want.events = append(want.events, cols.events...)
		want.featureSet = append(want.featureSet, cols.featureSet...)
		want.flushVersion = append(want.flushVersion, cols.flushVersion...)
		for i := range cols.rows {
			want.topic = append(want.topic, "activity")
			want.cohortKey = append(want.cohortKey, strings.Clone(cols.cohortKey[i]))
			want.values = append(want.values, append([]uint64(nil), cols.values[i]...))
		}
	}
	want.rows = rows

	got := concatColumns(queued, rows)
	for _, rec := range recs { // what reuse of the records' memory would do
		for _, col := range []int{schemas.PartialPartition, schemas.PartialCohortID, schemas.PartialUsers, schemas.PartialEvents, schemas.PartialFeatureSet, schemas.PartialFlushVersion, schemas.PartialCohortKey, schemas.PartialTopic} {
			for _, buf := range rec.Column(col).Data().Buffers()[1:] {
				if buf != nil {
					clear(buf.Bytes())
				}
			}
		}
		clear(rec.Column(schemas.PartialValues).(*array.List).ListValues().(*array.Uint64).Uint64Values())
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("group columns changed with the records':\n got %+v\nwant %+v", got, want)
	}
}

// TestGroupsStopAtMaxGroupRows: a group takes the oldest flushes while they
// fit in maxGroupRows, and a flush larger than that goes alone, whole.
func TestGroupsStopAtMaxGroupRows(t *testing.T) {
	flush := func(rows int) *queuedFlush {
		cols := &partialColumns{rows: rows, cohortKey: make([]string, rows), values: make([][]uint64, rows),
			windowStart: make([]int64, rows), windowEnd: make([]int64, rows), partition: make([]int32, rows),
			cohortID: make([]uint64, rows), users: make([]uint64, rows), events: make([]uint64, rows),
			featureSet: make([]uint16, rows), flushVersion: make([]uint64, rows)}
		return &queuedFlush{cols: cols}
	}
	half, quarter := maxGroupRows/2, maxGroupRows/4
	var q groupQueue
	q.waiting = []*queuedFlush{flush(half), flush(quarter), flush(quarter), flush(1), flush(maxGroupRows + 1), flush(3)}
	var got [][2]int // flushes, rows of each group
	for g := q.take(); g != nil; g = q.take() {
		got = append(got, [2]int{len(g.flushes), g.cols.rows})
		if len(g.cols.cohortKey) != g.cols.rows || len(g.cols.values) != g.cols.rows {
			t.Errorf("group of %d rows has %d keys and %d values", g.cols.rows, len(g.cols.cohortKey), len(g.cols.values))
		}
	}
	want := [][2]int{{3, maxGroupRows}, {1, 1}, {1, maxGroupRows + 1}, {1, 3}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("groups (flushes, rows) = %v, want %v", got, want)
	}
}
