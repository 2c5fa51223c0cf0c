package backfill

import (
	"testing"
	"time"

	"github.com/cohortline/cohortline/schemas"
)

// The dry run's comparison finds added, removed and changed cohorts per
// window, in window order.
func TestDiff(t *testing.T) {
	w0, w1 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 1, 1, 0, 0, 0, time.UTC)
	row := func(w time.Time, id uint64, key string, users, events uint64, values ...uint64) schemas.PartialRow {
		return schemas.PartialRow{WindowStart: w, CohortID: id, CohortKey: key, FeatureSet: 1, Users: users, Events: events, Values: values}
	}
	now := []schemas.PartialRow{row(w0, 1, "a", 10, 20, 1, 2), row(w0, 2, "b", 5, 5, 0, 0), row(w1, 1, "a", 7, 7, 3, 3)}
	next := []schemas.PartialRow{row(w0, 1, "a", 10, 20, 1, 9), row(w0, 3, "c", 40, 80, 0, 0), row(w1, 1, "a", 7, 7, 3, 3)}
	diffs := Diff(now, next)
	if len(diffs) != 2 {
		t.Fatalf("%d windows, want 2", len(diffs))
	}
	d := diffs[0]
	if d.Window != w0 || d.Before != 2 || d.After != 2 || d.Added != 1 || d.Removed != 1 || d.Changed != 1 ||
		d.UsersBefore != 15 || d.UsersAfter != 50 || d.EventsBefore != 25 || d.EventsAfter != 100 {
		t.Errorf("window 0: %+v", d)
	}
	if len(d.Cohorts) != 3 {
		t.Errorf("window 0 lists %d changed cohorts, want 3 (a changed, b removed, c added): %+v", len(d.Cohorts), d.Cohorts)
	}
	for _, c := range d.Cohorts {
		if c.Key == "a" && c.ValuesChanged != 1 {
			t.Errorf("cohort a: %d feature slots changed, want 1", c.ValuesChanged)
		}
	}
	if d := diffs[1]; d.Added+d.Removed+d.Changed != 0 {
		t.Errorf("window 1 is unchanged, got %+v", d)
	}
}

// Overall sums the sources' progress; a backfill with every source
// finished is done even where a source's total was unknown.
func TestOverall(t *testing.T) {
	sources := []SourceProgress{
		{Name: "partition 0", Done: 50, Total: 100, Messages: 50, Bytes: 500},
		{Name: "partition 1", Done: 120, Total: 100, Messages: 120, Bytes: 1200, Finished: true},
		{Name: "partition 2", Messages: 7, Bytes: 70},
	}
	all, finished := Overall(sources)
	if finished != 1 || all.Finished || all.Messages != 177 || all.Bytes != 1770 || all.Done != 150 || all.Total != 200 {
		t.Errorf("Overall = %+v, %d finished", all, finished)
	}
	if f := all.Fraction(); f != 0.75 {
		t.Errorf("fraction %g, want 0.75", f)
	}
	if f := sources[2].Fraction(); f != 0 {
		t.Errorf("fraction of an unknown total %g, want 0", f)
	}
	for i := range sources {
		sources[i].Finished = true
	}
	if all, _ := Overall(sources); !all.Finished || all.Fraction() != 1 {
		t.Errorf("every source finished: %+v, fraction %g", all, all.Fraction())
	}
}
