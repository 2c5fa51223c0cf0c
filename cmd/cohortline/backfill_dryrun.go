package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"sync"
	"text/tabwriter"
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

// dryRunSink keeps a dry run's partials in memory, summed over partitions
// as publish reads them, instead of writing them.
type dryRunSink struct {
	mu   sync.Mutex
	sums map[cohortWindow]*schemas.PartialRow
}

func newDryRunSink() *dryRunSink { return &dryRunSink{sums: map[cohortWindow]*schemas.PartialRow{}} }

func (s *dryRunSink) WriteBackfillPartials(_ context.Context, rec arrow.Record, f schemas.Flush) (schemas.Flush, error) {
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

func (s *dryRunSink) rows() []schemas.PartialRow {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]schemas.PartialRow, 0, len(s.sums))
	for _, r := range s.sums {
		out = append(out, *r)
	}
	return out
}

// windowDiff is what a backfill would change in one window.
type windowDiff struct {
	window                    time.Time
	before, after             int // cohorts
	added, removed, changed   int
	usersBefore, usersAfter   uint64
	eventsBefore, eventsAfter uint64
	cohorts                   []cohortDiff // added, removed or changed
}

// cohortDiff is one cohort that would change.
type cohortDiff struct {
	window                    time.Time
	key                       string
	usersBefore, usersAfter   uint64
	eventsBefore, eventsAfter uint64
	valuesChanged             int // feature slots that differ
}

// partialsChange compares the partials readers see now with a dry run's, per
// window and cohort.
func partialsChange(current, next []schemas.PartialRow) []windowDiff {
	byKey := func(rows []schemas.PartialRow) map[cohortWindow]schemas.PartialRow {
		m := make(map[cohortWindow]schemas.PartialRow, len(rows))
		for _, r := range rows {
			m[cohortWindow{r.WindowStart.UTC(), r.CohortID}] = r
		}
		return m
	}
	before, after := byKey(current), byKey(next)
	windows := map[time.Time]*windowDiff{}
	win := func(t time.Time) *windowDiff {
		if windows[t] == nil {
			windows[t] = &windowDiff{window: t}
		}
		return windows[t]
	}
	for k, b := range before {
		w := win(k.window)
		w.before++
		w.usersBefore += b.Users
		w.eventsBefore += b.Events
		if _, ok := after[k]; !ok {
			w.removed++
			w.cohorts = append(w.cohorts, cohortDiff{window: k.window, key: b.CohortKey, usersBefore: b.Users, eventsBefore: b.Events})
		}
	}
	for k, a := range after {
		w := win(k.window)
		w.after++
		w.usersAfter += a.Users
		w.eventsAfter += a.Events
		b, ok := before[k]
		if !ok {
			w.added++
			w.cohorts = append(w.cohorts, cohortDiff{window: k.window, key: a.CohortKey, usersAfter: a.Users, eventsAfter: a.Events})
			continue
		}
		d := cohortDiff{window: k.window, key: a.CohortKey, usersBefore: b.Users, usersAfter: a.Users, eventsBefore: b.Events, eventsAfter: a.Events}
		for i := range max(len(a.Values), len(b.Values)) {
			if i >= len(a.Values) || i >= len(b.Values) || a.Values[i] != b.Values[i] {
				d.valuesChanged++
			}
		}
		if d.usersBefore != d.usersAfter || d.eventsBefore != d.eventsAfter || d.valuesChanged > 0 || b.FeatureSet != a.FeatureSet {
			w.changed++
			w.cohorts = append(w.cohorts, d)
		}
	}
	out := make([]windowDiff, 0, len(windows))
	for _, w := range windows {
		out = append(out, *w)
	}
	slices.SortFunc(out, func(a, b windowDiff) int { return a.window.Compare(b.window) })
	return out
}

// printDryRun prints the windows that would change and the show cohorts
// that would change most (by users, then events).
func printDryRun(w io.Writer, diffs []windowDiff, show int) {
	var cohorts []cohortDiff
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "window\tcohorts now\tafter\tadded\tremoved\tchanged\tusers now\tafter\tevents now\tafter\t")
	unchanged := 0
	for _, d := range diffs {
		if d.added+d.removed+d.changed == 0 {
			unchanged++
			continue
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t\n", d.window.Format(time.RFC3339), d.before, d.after,
			d.added, d.removed, d.changed, d.usersBefore, d.usersAfter, d.eventsBefore, d.eventsAfter)
		cohorts = append(cohorts, d.cohorts...)
	}
	tw.Flush()
	fmt.Fprintf(w, "dry run: %d windows would change, %d would stay the same; nothing was written\n", len(diffs)-unchanged, unchanged)
	if len(cohorts) == 0 || show == 0 {
		return
	}
	delta := func(a, b uint64) uint64 { return max(a, b) - min(a, b) }
	slices.SortFunc(cohorts, func(a, b cohortDiff) int {
		return cmp.Or(
			cmp.Compare(delta(b.usersBefore, b.usersAfter), delta(a.usersBefore, a.usersAfter)),
			cmp.Compare(delta(b.eventsBefore, b.eventsAfter), delta(a.eventsBefore, a.eventsAfter)),
			a.window.Compare(b.window), cmp.Compare(a.key, b.key))
	})
	fmt.Fprintf(w, "largest changes (of %d cohort-windows):\n", len(cohorts))
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "window\tcohort\tusers\tevents\tfeature slots changed\t")
	for _, c := range cohorts[:min(show, len(cohorts))] {
		fmt.Fprintf(tw, "%s\t%s\t%d → %d\t%d → %d\t%d\t\n", c.window.Format(time.RFC3339), c.key,
			c.usersBefore, c.usersAfter, c.eventsBefore, c.eventsAfter, c.valuesChanged)
	}
	tw.Flush()
}
