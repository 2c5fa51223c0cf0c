package cohorts

import (
	"strings"
	"testing"

	"github.com/cohortline/cohortline/schemas"
)

// Privacy invariants of the aggregation, on generated data: what is
// excluded leaves no trace. Proved by equivalence: the partials with the
// excluded events fed in equal, window for window and slot for slot, the
// partials of the same stream with those events removed beforehand, and
// the excluded events are reported with their outcome.

// TestMinorsNeverAppear: a user with any event of age 13-17 in a window is
// in none of that window's partials, with none of their events, before or
// after the minor one (the data has minors whose other device says
// unknown). Events from the first minor one on are reported Minor.
func TestMinorsNeverAppear(t *testing.T) {
	assertNoTrace(t, Minor, func(spec Spec, evs []decodedEvent) ([]bool, int) {
		minorIn := map[[2]string]bool{} // (user, window) with a minor event
		for _, ev := range evs {
			if ev.e.Age == schemas.AgeMinor {
				minorIn[[2]string{ev.user, spec.WindowOf(ev.e.TS).String()}] = true
			}
		}
		excluded, reported := make([]bool, len(evs)), 0
		flagged := map[[2]string]bool{}
		for i, ev := range evs {
			k := [2]string{ev.user, spec.WindowOf(ev.e.TS).String()}
			excluded[i] = minorIn[k]
			if ev.e.Age == schemas.AgeMinor {
				flagged[k] = true
			}
			if flagged[k] && (ev.e.Age == schemas.AgeMinor || !ev.e.Category.Sensitive()) {
				reported++
			}
		}
		return excluded, reported
	})
}

func TestSensitiveCategoriesNeverAppear(t *testing.T) {
	assertNoTrace(t, Sensitive, func(_ Spec, evs []decodedEvent) ([]bool, int) {
		excluded, reported := make([]bool, len(evs)), 0
		for i, ev := range evs {
			// A sensitive event of age 13-17 still makes its user a minor
			// (the minor rule comes first): it is not without trace.
			excluded[i] = ev.e.Category.Sensitive() && ev.e.Age != schemas.AgeMinor
			if excluded[i] {
				reported++
			}
		}
		return excluded, reported
	})
}

// assertNoTrace checks, under every reference spec, that the events
// exclude marks leave no trace and that want is reported as often as
// exclude says.
func assertNoTrace(t *testing.T, want Outcome, exclude func(Spec, []decodedEvent) (excluded []bool, reported int)) {
	evs := testData(t)
	for name, spec := range referenceSpecs(t) {
		t.Run(name, func(t *testing.T) {
			excluded, reported := exclude(spec, evs)
			var kept []decodedEvent
			for i := range evs {
				if !excluded[i] {
					kept = append(kept, evs[i])
				}
			}
			if len(kept) == len(evs) {
				t.Fatalf("the data has no %s event", want)
			}
			all, outcomes := runStates(t, spec, evs)
			clean, _ := runStates(t, spec, kept)
			if outcomes[want] != reported {
				t.Errorf("%d events reported %s, want %d", outcomes[want], want, reported)
			}
			for w, s := range all {
				c := clean[w]
				if c == nil {
					if len(s.Partials()) != 0 || s.Users() != 0 {
						t.Errorf("window %s has only %s events, but partials", w, want)
					}
					continue
				}
				if s.Users() != c.Users() || !equalViews(view(s.Partials()), view(c.Partials())) {
					t.Errorf("window %s: partials change when %s events are removed", w, want)
				}
				for _, p := range s.Partials() {
					if strings.Contains(p.Key.String(), "age=13-17") {
						t.Errorf("window %s: cohort %s", w, p.Key)
					}
				}
			}
		})
	}
}
