package cohorts

import (
	"strings"
	"testing"

	"github.com/cohortline/cohortline/schemas"
)

// Privacy invariants of the aggregation, on generated data: an excluded
// event leaves no trace. Proved by equivalence: the partials with the
// excluded events fed in equal, window for window and slot for slot, the
// partials of the same stream with those events removed beforehand, and
// every excluded event is reported with its outcome.

func TestMinorsNeverAppear(t *testing.T) {
	assertNoTrace(t, Minor, func(ev *decodedEvent) bool { return ev.e.Age == schemas.AgeMinor })
}

func TestSensitiveCategoriesNeverAppear(t *testing.T) {
	assertNoTrace(t, Sensitive, func(ev *decodedEvent) bool { return ev.e.Category.Sensitive() })
}

func assertNoTrace(t *testing.T, want Outcome, excluded func(*decodedEvent) bool) {
	evs := testData(t)
	var kept []decodedEvent
	reported := 0 // excluded events Add reports as want: the minor rule comes first
	for i := range evs {
		switch {
		case !excluded(&evs[i]):
			kept = append(kept, evs[i])
		case want == Minor || evs[i].e.Age != schemas.AgeMinor:
			reported++
		}
	}
	if len(kept) == len(evs) {
		t.Fatalf("the data has no %s event", want)
	}
	for name, spec := range referenceSpecs(t) {
		t.Run(name, func(t *testing.T) {
			all, outcomes := runStates(t, spec, evs)
			clean, _ := runStates(t, spec, kept)
			if outcomes[want] != reported {
				t.Errorf("%d events reported %s, want %d", outcomes[want], want, reported)
			}
			if len(all) != len(clean) {
				t.Errorf("%d windows, %d without the %s events", len(all), len(clean), want)
			}
			for w, s := range all {
				c := clean[w]
				if c == nil {
					t.Errorf("window %s exists only because of %s events", w, want)
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
