package cohorts

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cohortline/cohortline/cohorts/cohortstest"
	"github.com/cohortline/cohortline/schemas"
)

// The reference aggregation is cohortstest: the semantics of WindowState
// written down again as plainly as possible, sharing no code with this
// package, so agreement on generated data checks the compact state, the
// re-keying and the slot layout together.

func refParams(spec Spec) cohortstest.Params {
	dims := make([]string, len(spec.Dimensions))
	for i, d := range spec.Dimensions {
		dims[i] = string(d)
	}
	return cohortstest.Params{Dimensions: dims, Window: spec.Window, BoundEvents: spec.Bounds.Events, BoundCallSeconds: spec.Bounds.CallSeconds}
}

// refKey spells the canonical key of e under spec by hand.
func refKey(spec Spec, e *schemas.Event) string {
	return cohortstest.Key(refParams(spec).Dimensions, e)
}

// refAggregate returns, per window, the cohort aggregates by key string,
// and the outcome counts.
func refAggregate(spec Spec, evs []decodedEvent) (map[Window]map[string]*cohortstest.Cohort, map[string]int) {
	in := make([]cohortstest.Event, len(evs))
	for i, ev := range evs {
		in[i] = cohortstest.Event{User: ev.user, ID: ev.id, E: ev.e}
	}
	byStart, outcomes := cohortstest.Aggregate(refParams(spec), in)
	out := make(map[Window]map[string]*cohortstest.Cohort, len(byStart))
	for start, cohorts := range byStart {
		out[WindowOf(start, spec.Window)] = cohorts
	}
	return out, outcomes
}

// referenceSpecs have bounds small enough to bite and dimension subsets.
func referenceSpecs(t *testing.T) map[string]Spec {
	return map[string]Spec{
		"default":               DefaultSpec(),
		"tight bounds":          mustParseSpec(t, "bounds: {events: 3, call_seconds: 120}"),
		"bounds of one":         mustParseSpec(t, "bounds: {events: 1, call_seconds: 1}"),
		"country only, 2h":      mustParseSpec(t, "dimensions: [country]\nwindow: 2h\nbounds: {events: 10}"),
		"age and platform, 15m": mustParseSpec(t, "dimensions: [platform, age]\nwindow: 15m\nbounds: {events: 5, call_seconds: 600}"),
	}
}

// TestWindowStateMatchesReference: on generated data, WindowState and the
// reference agree exactly, cohort by cohort and slot by slot.
func TestWindowStateMatchesReference(t *testing.T) {
	evs := testData(t)
	for name, spec := range referenceSpecs(t) {
		t.Run(name, func(t *testing.T) {
			states, outcomes := runStates(t, spec, evs)
			ref, refOutcomes := refAggregate(spec, evs)
			for o := range Outcome(NumOutcomes) {
				if o == Overflow {
					continue // no window of test data is that big; TestOverflow
				}
				if outcomes[o] != refOutcomes[o.String()] {
					t.Errorf("%s: %d events, reference %d", o, outcomes[o], refOutcomes[o.String()])
				}
				if o != Counted && outcomes[o] == 0 && !(o == Bounded && spec.Bounds.Events == DefaultEvents) {
					t.Errorf("no %s event: the data does not exercise it", o)
				}
			}
			if len(states) != len(ref) {
				t.Fatalf("%d windows, reference %d", len(states), len(ref))
			}
			for w, s := range states {
				compareWindow(t, w, s, ref[w])
			}
		})
	}
}

func compareWindow(t *testing.T, w Window, s *WindowState, ref map[string]*cohortstest.Cohort) {
	t.Helper()
	got := view(s.Partials())
	if len(got) != len(ref) {
		t.Errorf("window %s: %d cohorts, reference %d", w, len(got), len(ref))
	}
	users := uint64(0)
	for _, g := range got {
		r := ref[g.Key]
		if r == nil {
			t.Errorf("window %s: cohort %s not in the reference", w, g.Key)
			continue
		}
		users += g.Users
		if g.Users != r.Users || g.Events != r.Events || !maps.Equal(g.Values, r.Values) {
			t.Errorf("window %s, cohort %s:\n got users %d events %d %s\nwant users %d events %d %s",
				w, g.Key, g.Users, g.Events, fmtValues(g.Values), r.Users, r.Events, fmtValues(r.Values))
		}
	}
	if users != uint64(s.Users()) {
		t.Errorf("window %s: partials cover %d users, Users() = %d", w, users, s.Users())
	}
}

func fmtValues(m map[string]uint64) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(m)) {
		fmt.Fprintf(&b, "\n\t%s=%d", k, m[k])
	}
	return b.String()
}

// TestReferenceDataExercisesLateMinors makes sure the data has users whose
// events in one window are labelled 13-17 only after others were counted,
// so that the comparison above tests taking them out again.
func TestReferenceDataExercisesLateMinors(t *testing.T) {
	counted := map[[2]string]bool{}
	late := map[[2]string]bool{}
	for _, ev := range testData(t) {
		k := [2]string{ev.user, WindowOf(ev.e.TS, time.Hour).String()}
		switch {
		case ev.e.Age != schemas.AgeMinor && !ev.e.Category.Sensitive():
			counted[k] = true
		case ev.e.Age == schemas.AgeMinor && counted[k]:
			late[k] = true
		}
	}
	if len(late) < 10 {
		t.Errorf("%d user-windows where a minor event follows counted ones, want at least 10", len(late))
	}
}

// TestReferenceDataExercisesFirstEventWins makes sure the data has users
// whose events in one window disagree on the cohort, so that the
// comparison above tests the rule.
func TestReferenceDataExercisesFirstEventWins(t *testing.T) {
	spec := DefaultSpec()
	keys := map[[2]string]map[string]bool{}
	for _, ev := range testData(t) {
		if ev.e.Age == schemas.AgeMinor {
			continue
		}
		k := [2]string{ev.user, WindowOf(ev.e.TS, time.Hour).String()}
		if keys[k] == nil {
			keys[k] = map[string]bool{}
		}
		keys[k][refKey(spec, &ev.e)] = true
	}
	drifting := 0
	for _, ks := range keys {
		if len(ks) > 1 {
			drifting++
		}
	}
	if drifting < 10 {
		t.Errorf("%d user-windows with more than one cohort, want at least 10", drifting)
	}
}
