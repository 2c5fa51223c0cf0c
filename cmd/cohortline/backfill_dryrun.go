package main

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/cohortline/cohortline/pipeline/backfill"
)

// printDryRun prints the windows that would change and the show cohorts
// that would change most (by users, then events).
func printDryRun(w io.Writer, diffs []backfill.WindowDiff, show int) {
	var cohorts []backfill.CohortDiff
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "window\tcohorts now\tafter\tadded\tremoved\tchanged\tusers now\tafter\tevents now\tafter\t")
	unchanged := 0
	for _, d := range diffs {
		if d.Added+d.Removed+d.Changed == 0 {
			unchanged++
			continue
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t\n", d.Window.Format(time.RFC3339), d.Before, d.After,
			d.Added, d.Removed, d.Changed, d.UsersBefore, d.UsersAfter, d.EventsBefore, d.EventsAfter)
		cohorts = append(cohorts, d.Cohorts...)
	}
	tw.Flush()
	fmt.Fprintf(w, "dry run: %d windows would change, %d would stay the same; nothing was written\n", len(diffs)-unchanged, unchanged)
	if len(cohorts) == 0 || show == 0 {
		return
	}
	delta := func(a, b uint64) uint64 { return max(a, b) - min(a, b) }
	slices.SortFunc(cohorts, func(a, b backfill.CohortDiff) int {
		return cmp.Or(
			cmp.Compare(delta(b.UsersBefore, b.UsersAfter), delta(a.UsersBefore, a.UsersAfter)),
			cmp.Compare(delta(b.EventsBefore, b.EventsAfter), delta(a.EventsBefore, a.EventsAfter)),
			a.Window.Compare(b.Window), cmp.Compare(a.Key, b.Key))
	})
	fmt.Fprintf(w, "largest changes (of %d cohort-windows):\n", len(cohorts))
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "window\tcohort\tusers\tevents\tfeature slots changed\t")
	for _, c := range cohorts[:min(show, len(cohorts))] {
		fmt.Fprintf(tw, "%s\t%s\t%d → %d\t%d → %d\t%d\t\n", c.Window.Format(time.RFC3339), c.Key,
			c.UsersBefore, c.UsersAfter, c.EventsBefore, c.EventsAfter, c.ValuesChanged)
	}
	tw.Flush()
}
