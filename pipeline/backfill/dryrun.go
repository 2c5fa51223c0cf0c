package backfill

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"

	"github.com/cohortline/cohortline/schemas"
)

// cohortWindow identifies a cohort's partials in one window.
type cohortWindow struct {
	window time.Time
	cohort uint64
}

// DryRun is the Sink of a dry run: it keeps the partials in memory, summed
// over partitions as publish reads them, instead of writing them. Diff its
// Rows with what readers see now.
type DryRun struct {
	mu   sync.Mutex
	sums map[cohortWindow]*schemas.PartialRow
}

// NewDryRun returns an empty dry-run sink.
func NewDryRun() *DryRun { return &DryRun{sums: map[cohortWindow]*schemas.PartialRow{}} }

// WriteBackfillPartials adds the flush's partials to the sums.
func (s *DryRun) WriteBackfillPartials(_ context.Context, rec arrow.Record, f schemas.Flush) (schemas.Flush, error) {
	ids := rec.Column(schemas.PartialCohortID).(*array.Uint64)
	keys := rec.Column(schemas.PartialCohortKey).(*array.String)
	users := rec.Column(schemas.PartialUsers).(*array.Uint64)
	events := rec.Column(schemas.PartialEvents).(*array.Uint64)
	lists := rec.Column(schemas.PartialValues).(*array.List)
	values := lists.ListValues().(*array.Uint64).Uint64Values()
	sets := rec.Column(schemas.PartialFeatureSet).(*array.Uint16)
	start := time.UnixMilli(f.WindowStart).UTC()
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range int(rec.NumRows()) {
		k := cohortWindow{start, ids.Value(i)}
		r := s.sums[k]
		if r == nil {
			r = &schemas.PartialRow{
				WindowStart: start, WindowEnd: time.UnixMilli(f.WindowEnd).UTC(), CohortID: ids.Value(i),
				CohortKey: keys.Value(i), FeatureSet: sets.Value(i),
			}
			s.sums[k] = r
		}
		r.Users += users.Value(i)
		r.Events += events.Value(i)
		lo, hi := lists.ValueOffsets(i)
		if r.Values == nil {
			r.Values = make([]uint64, hi-lo)
		}
		for j, v := range values[lo:hi] {
			r.Values[j] += v
		}
	}
	return f, nil
}

// Rows returns the summed partials, by window and cohort.
func (s *DryRun) Rows() []schemas.PartialRow {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]schemas.PartialRow, 0, len(s.sums))
	for _, r := range s.sums {
		out = append(out, *r)
	}
	return out
}

// WindowDiff is what a backfill would change in one window.
type WindowDiff struct {
	Window                    time.Time
	Before, After             int // cohorts
	Added, Removed, Changed   int
	UsersBefore, UsersAfter   uint64
	EventsBefore, EventsAfter uint64
	Cohorts                   []CohortDiff // added, removed or changed
}

// CohortDiff is one cohort that would change.
type CohortDiff struct {
	Window                    time.Time
	Key                       string
	UsersBefore, UsersAfter   uint64
	EventsBefore, EventsAfter uint64
	ValuesChanged             int // feature slots that differ
}

// Diff compares the partials readers see now with a dry run's, per
// window and cohort.
func Diff(current, next []schemas.PartialRow) []WindowDiff {
	byKey := func(rows []schemas.PartialRow) map[cohortWindow]schemas.PartialRow {
		m := make(map[cohortWindow]schemas.PartialRow, len(rows))
		for _, r := range rows {
			m[cohortWindow{r.WindowStart.UTC(), r.CohortID}] = r
		}
		return m
	}
	before, after := byKey(current), byKey(next)
	windows := map[time.Time]*WindowDiff{}
	win := func(t time.Time) *WindowDiff {
		if windows[t] == nil {
			windows[t] = &WindowDiff{Window: t}
		}
		return windows[t]
	}
	for k, b := range before {
		w := win(k.window)
		w.Before++
		w.UsersBefore += b.Users
		w.EventsBefore += b.Events
		if _, ok := after[k]; !ok {
			w.Removed++
			w.Cohorts = append(w.Cohorts, CohortDiff{Window: k.window, Key: b.CohortKey, UsersBefore: b.Users, EventsBefore: b.Events})
		}
	}
	for k, a := range after {
		w := win(k.window)
		w.After++
		w.UsersAfter += a.Users
		w.EventsAfter += a.Events
		b, ok := before[k]
		if !ok {
			w.Added++
			w.Cohorts = append(w.Cohorts, CohortDiff{Window: k.window, Key: a.CohortKey, UsersAfter: a.Users, EventsAfter: a.Events})
			continue
		}
		d := CohortDiff{Window: k.window, Key: a.CohortKey, UsersBefore: b.Users, UsersAfter: a.Users, EventsBefore: b.Events, EventsAfter: a.Events}
		for i := range max(len(a.Values), len(b.Values)) {
			if i >= len(a.Values) || i >= len(b.Values) || a.Values[i] != b.Values[i] {
				d.ValuesChanged++
			}
		}
		if d.UsersBefore != d.UsersAfter || d.EventsBefore != d.EventsAfter || d.ValuesChanged > 0 || b.FeatureSet != a.FeatureSet {
			w.Changed++
			w.Cohorts = append(w.Cohorts, d)
		}
	}
	out := make([]WindowDiff, 0, len(windows))
	for _, w := range windows {
		out = append(out, *w)
	}
	slices.SortFunc(out, func(a, b WindowDiff) int { return a.Window.Compare(b.Window) })
	return out
}
