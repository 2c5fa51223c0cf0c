package clickhouse

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/cohortline/cohortline/schemas"
)

// sums adds flushes up the way readers must see them: per (window, cohort)
// over topics and partitions.
func sums(flushes map[schemas.Flush][]partial) map[string]schemas.PartialRow {
	out := map[string]schemas.PartialRow{}
	for p, rows := range flushes {
		for _, r := range rows {
			ws := time.UnixMilli(p.WindowStart).UTC()
			k := fmt.Sprintf("%d/%d", ws.Unix(), r.cohort)
			s := out[k]
			s.WindowStart, s.WindowEnd, s.CohortID = ws, ws.Add(time.Hour), r.cohort
			s.CohortKey = fmt.Sprintf("country=C%d|lang=pt|age=25-34|platform=android", r.cohort)
			s.FeatureSet = 1
			s.Users += r.users
			s.Events += r.events
			if s.Values == nil {
				s.Values = make([]uint64, len(r.values))
			}
			for i, v := range r.values {
				s.Values[i] += v
			}
			out[k] = s
		}
	}
	return out
}

func checkCurrent(t *testing.T, c *Client, from, to time.Time, want map[string]schemas.PartialRow) {
	t.Helper()
	got, err := c.CurrentPartials(t.Context(), from, to)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Errorf("CurrentPartials returned %d rows, want %d: %+v", len(got), len(want), got)
	}
	for i, r := range got {
		k := fmt.Sprintf("%d/%d", r.WindowStart.Unix(), r.CohortID)
		if !reflect.DeepEqual(r, want[k]) {
			t.Errorf("row %d = %+v\nwant       %+v", i, r, want[k])
		}
		if i > 0 && (r.WindowStart.Before(got[i-1].WindowStart) || r.WindowStart.Equal(got[i-1].WindowStart) && r.CohortID <= got[i-1].CohortID) {
			t.Errorf("rows %d and %d out of (window, cohort) order", i-1, i)
		}
	}
}

func TestWritePartialsThenCurrentPartialsSums(t *testing.T) {
	c := migratedClient(t, testConfig(t))
	w := c.Writer()
	next := window.Add(time.Hour)
	flushes := map[schemas.Flush][]partial{
		progressOf(window, "activity", 0, 1, 0):    {{cohort: 1, users: 3, events: 10, values: []uint64{1, 2, 3}}, {cohort: 2, users: 1, events: 1, values: []uint64{0, 0, 1}}},
		progressOf(window, "activity", 1, 1, 0):    {{cohort: 1, users: 5, events: 7, values: []uint64{10, 20, 30}}},
		progressOf(window, "activity", 2, 4, 0):    {{cohort: 2, users: 2, events: 9, values: []uint64{4, 5, 6}}, {cohort: 1 << 63, users: 1, events: 1, values: []uint64{1 << 40, 0, 0}}},
		progressOf(window, "activity-eu", 0, 1, 0): {{cohort: 1, users: 7, events: 8, values: []uint64{100, 200, 300}}},
		progressOf(next, "activity", 0, 1, 0):      {{cohort: 1, users: 4, events: 4, values: []uint64{1, 1, 1}}},
	}
	for p, rows := range flushes {
		write(t, w, p, rows)
	}
	want := sums(flushes)
	checkCurrent(t, c, window, next.Add(time.Hour), want)

	// The range is of window starts, half-open.
	delete(want, fmt.Sprintf("%d/%d", next.Unix(), 1))
	checkCurrent(t, c, window, next, want)

	// The view agrees with CurrentPartials.
	n := queryUint64(t, c, "SELECT sum(users) FROM "+c.cfg.Database+".cohort_partials_current WHERE window_start = toDateTime("+fmt.Sprint(window.Unix())+")")
	if n != 3+1+5+2+1+7 {
		t.Errorf("cohort_partials_current sums %d users in the window, want 19", n)
	}
}

func TestReflushWithNewVersionReplacesEarlierRows(t *testing.T) {
	c := migratedClient(t, testConfig(t))
	w := c.Writer()
	other := progressOf(window, "activity", 1, 1, 0)
	write(t, w, other, []partial{{cohort: 2, users: 1, events: 1, values: []uint64{1}}})
	write(t, w, progressOf(window, "activity", 0, 1, 0), []partial{
		{cohort: 1, users: 3, events: 3, values: []uint64{3}},
		{cohort: 2, users: 4, events: 4, values: []uint64{4}},
		{cohort: 3, users: 5, events: 5, values: []uint64{5}},
	})
	// A replay changed which cohorts partition 0 has: 1 and 3 are gone.
	v2 := []partial{
		{cohort: 2, users: 6, events: 6, values: []uint64{6}},
		{cohort: 4, users: 7, events: 7, values: []uint64{7}},
	}
	write(t, w, progressOf(window, "activity", 0, 2, 0), v2)
	want := sums(map[schemas.Flush][]partial{other: {{cohort: 2, users: 1, events: 1, values: []uint64{1}}}, progressOf(window, "activity", 0, 2, 0): v2})
	checkCurrent(t, c, window, window.Add(time.Hour), want)

	// A flush cut off after its rows, before its progress row, is not read:
	// version 3's rows are there, version 2 is still what readers see.
	p3 := progressOf(window, "activity", 0, 3, 1)
	cols, err := partialColumnsOf(record(t, p3, []partial{{cohort: 9, users: 99, events: 99, values: []uint64{99}}}), p3)
	if err != nil {
		t.Fatal(err)
	}
	cols.setFlushedAt(time.Now())
	if err := w.sendPartials(t.Context(), cols); err != nil {
		t.Fatal(err)
	}
	checkCurrent(t, c, window, window.Add(time.Hour), want)

	// Merges do not change what readers see of complete flushes.
	if err := c.conn.Exec(t.Context(), "OPTIMIZE TABLE "+c.cfg.Database+".window_progress FINAL"); err != nil {
		t.Fatal(err)
	}
	checkCurrent(t, c, window, window.Add(time.Hour), want)
}

func TestSameFlushWrittenTwiceIsReadOnce(t *testing.T) {
	c := migratedClient(t, testConfig(t))
	w := c.Writer()
	p := progressOf(window, "activity", 5, 3, 0)
	rows := []partial{{cohort: 1, users: 3, events: 4, values: []uint64{5, 6}}, {cohort: 2, users: 7, events: 8, values: []uint64{9, 10}}}
	write(t, w, p, rows)
	write(t, w, p, rows) // a crash after the write, before the offset commit
	if n := queryUint64(t, c, "SELECT count() FROM "+c.cfg.Database+".cohort_partials"); n != 4 {
		t.Fatalf("cohort_partials has %d rows, want both copies (4) before any merge: the test would prove nothing", n)
	}
	want := sums(map[schemas.Flush][]partial{p: rows})
	checkCurrent(t, c, window, window.Add(time.Hour), want)
	if err := c.conn.Exec(t.Context(), "OPTIMIZE TABLE "+c.cfg.Database+".cohort_partials FINAL"); err != nil {
		t.Fatal(err)
	}
	checkCurrent(t, c, window, window.Add(time.Hour), want)
}

func TestEmptyFlushWritesProgressAndHidesEarlierRows(t *testing.T) {
	c := migratedClient(t, testConfig(t))
	w := c.Writer()
	write(t, w, progressOf(window, "activity", 0, 1, 0), []partial{{cohort: 1, users: 3, events: 3, values: []uint64{3}}})
	empty := progressOf(window, "activity", 0, 2, 0)
	write(t, w, empty, nil) // only minors this time
	got, ok, err := c.Writer().LastFlush(t.Context(), "activity", 0)
	if err != nil || !ok || got != empty {
		t.Fatalf("LastFlush after the empty flush = %+v, %v, %v\nwant %+v", got, ok, err, empty)
	}
	checkCurrent(t, c, window, window.Add(time.Hour), map[string]schemas.PartialRow{})
}

func TestLastFlushIsTheNewestFlushOfThePartition(t *testing.T) {
	c := migratedClient(t, testConfig(t))
	w := c.Writer()
	if _, ok, err := c.Writer().LastFlush(t.Context(), "activity", 0); ok || err != nil {
		t.Fatalf("LastFlush of a partition that never flushed: ok=%v, %v", ok, err)
	}
	rows := []partial{{cohort: 1, users: 1, events: 1, values: []uint64{1}}}
	older := progressOf(window, "activity", 0, 500, 1)
	newest := progressOf(window.Add(time.Hour), "activity", 0, 900, 1)
	write(t, w, newest, rows)
	write(t, w, older, rows) // a late re-flush of an older window, older offsets
	write(t, w, progressOf(window.Add(2*time.Hour), "activity", 1, 999, 1), rows)
	write(t, w, progressOf(window.Add(2*time.Hour), "other", 0, 999, 1), rows)
	got, ok, err := c.Writer().LastFlush(t.Context(), "activity", 0)
	if err != nil || !ok || got != newest {
		t.Errorf("LastFlush = %+v, %v, %v\nwant %+v", got, ok, err, newest)
	}
	if got.Watermark%1000 != 7 {
		t.Errorf("watermark %d lost its milliseconds", got.Watermark)
	}
}
