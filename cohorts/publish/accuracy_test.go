package publish

import (
	"fmt"
	"math"
	"os"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/cohortline/cohortline/cohorts"
	"github.com/cohortline/cohortline/cohorts/privacy"
	"github.com/cohortline/cohortline/schemas"
	"github.com/cohortline/cohortline/schemas/synth"
)

// realisticDay is the generated realistic day (schemas/synth defaults:
// 100 000 users, a million events over one UTC day), decoded; a quarter
// of it with -short.
func realisticDay(t testing.TB) []dayEvent {
	t.Helper()
	cfg := synth.DefaultConfig()
	cfg.Start = cfg.Start.UTC().Truncate(24 * time.Hour)
	if testing.Short() {
		cfg.Users, cfg.Events = 25_000, 250_000
	}
	g, err := synth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var d schemas.Decoder
	var out []dayEvent
	for r, ok := g.Next(); ok; r, ok = g.Next() {
		var e schemas.Event
		if d.Decode(r.Line, &e) != nil {
			continue
		}
		de := dayEvent{user: string(e.User), id: string(e.ID), e: e}
		de.e.User, de.e.ID = nil, nil
		out = append(out, de)
	}
	return out
}

type dayEvent struct {
	user, id string
	e        schemas.Event
}

// partialsOf aggregates events under spec, window by window.
func partialsOf(t testing.TB, spec cohorts.Spec, evs []dayEvent) map[cohorts.Window][]cohorts.Partial {
	t.Helper()
	r, err := cohorts.NewRekeyer([]byte("accuracy test secret of 32 bytes"))
	if err != nil {
		t.Fatal(err)
	}
	states := map[cohorts.Window]*cohorts.WindowState{}
	for i := range evs {
		ev := &evs[i]
		w := spec.WindowOf(ev.e.TS)
		s := states[w]
		if s == nil {
			s = cohorts.NewWindowState(&spec, w)
			states[w] = s
		}
		s.Add(r.User([]byte(ev.user)), r.EventID([]byte(ev.id)), &ev.e)
	}
	out := map[cohorts.Window][]cohorts.Partial{}
	for w, s := range states {
		out[w] = s.Partials()
	}
	return out
}

// accuracy is the median relative error of the four features
// over the finest cohorts of 100–300 true users published as themselves.
type accuracy struct {
	cohorts                             int
	users, reachMsg, events, largestBin float64
}

func measure(t testing.TB, spec cohorts.Spec, noise Noise, byWindow map[cohorts.Window][]cohorts.Partial) accuracy {
	t.Helper()
	fs := cohorts.MustFeatureSet(spec.FeatureSet)
	msg := fs.Slot("reach.kind.message_sent")
	var kinds, hist []int
	for _, f := range fs.Features {
		switch {
		case f.Kind == cohorts.FeatureSum && f.Group == "kind":
			kinds = append(kinds, f.Index)
		case f.Kind == cohorts.FeatureHistogram:
			hist = append(hist, f.Index)
		}
	}
	var eu, er, ee, eh []float64
	rel := func(got, want float64) float64 { return math.Abs(got-want) / want }
	for w, parts := range byWindow {
		scope := privacy.Scope{Release: ReleaseName(spec), WindowStart: w.Start, InputDigest: Digest(parts)}
		rows, _, err := Release(spec, noise, scope, w, parts)
		if err != nil {
			t.Fatal(err)
		}
		truth := map[uint64]cohorts.Partial{}
		for _, p := range parts {
			truth[p.ID] = p
		}
		for _, r := range rows {
			p, ok := truth[r.ID]
			if r.Level != 0 || !ok || p.Users < 100 || p.Users > 300 {
				continue
			}
			v := make([]uint64, fs.Len())
			if err := fs.Project(v, p.Values); err != nil {
				t.Fatal(err)
			}
			eu = append(eu, rel(float64(r.Users), float64(p.Users)))
			if v[msg] > 0 {
				er = append(er, rel(float64(r.Features[msg]), float64(v[msg])))
			}
			var tot, noisy float64
			for _, s := range kinds {
				tot += float64(v[s])
				noisy += float64(r.Features[s])
			}
			ee = append(ee, rel(noisy, tot))
			big := hist[0]
			for _, s := range hist {
				if v[s] > v[big] {
					big = s
				}
			}
			eh = append(eh, rel(float64(r.Features[big]), float64(v[big])))
		}
	}
	return accuracy{cohorts: len(eu), users: median(eu), reachMsg: median(er), events: median(ee), largestBin: median(eh)}
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	slices.Sort(xs)
	return xs[len(xs)/2]
}

// oldDefaults is the spec every release used before feature set 2:
// hourly windows, ε 4 split evenly, bounds 100 events and 3600 s.
func oldDefaults() cohorts.Spec {
	s := cohorts.DefaultSpec()
	s.FeatureSet, s.Window = cohorts.FeatureSetV1Version, time.Hour
	s.Privacy.Rho = cohorts.DefaultRho(time.Hour)
	s.Bounds = cohorts.Bounds{Events: 100, CallSeconds: 3600}
	return s
}

// TestAccuracyRealisticDay is the acceptance test: the generated
// realistic day published with the default config (daily window, feature
// set 2, ρ 0.4), finest cohorts of 100–300 true users: median relative
// error of users ≤ 3%, reach of message_sent ≤ 25%, events total ≤ 25%,
// largest histogram bucket ≤ 20%, at a per-person-day ε ≤ 8 with δ ≤
// 10^-8. It prints the same for the old defaults, and the plan tables of
// both, side by side.
func TestAccuracyRealisticDay(t *testing.T) {
	if testing.Short() {
		t.Skip("a generated day takes seconds; run without -short")
	}
	evs := realisticDay(t)
	spec := cohorts.DefaultSpec()
	byWindow := partialsOf(t, spec, evs)
	n, _ := privacy.NewNoiser([]byte("accuracy test noise secret, 32 bytes long"))
	z, err := privacy.SplitZCDP(spec)
	if err != nil {
		t.Fatal(err)
	}
	got := measure(t, spec, Noise{Noiser: n, ZBudget: &z}, byWindow)

	old := oldDefaults()
	b, err := privacy.Split(old, old.Privacy.Epsilon)
	if err != nil {
		t.Fatal(err)
	}
	was := measure(t, old, Noise{Noiser: n, Budget: &b}, partialsOf(t, old, evs))

	plan, err := MakePlan(spec, Budget{}, DefaultProfile)
	if err != nil {
		t.Fatal(err)
	}
	oldPlan, err := MakePlan(old, Budget{}, HourlyProfile)
	if err != nil {
		t.Fatal(err)
	}
	w := os.Stdout
	fmt.Fprintf(w, "finest cohorts of 100-300 true users, median relative error\n%-28s %-22s %s\n", "", "old (fs1, 1h, eps 4)", "new (fs2, 24h, rho 0.4)")
	for _, r := range []struct {
		name     string
		old, new float64
	}{{"cohorts measured", float64(was.cohorts), float64(got.cohorts)}, {"users", was.users, got.users}, {"reach message_sent", was.reachMsg, got.reachMsg},
		{"events total", was.events, got.events}, {"largest histogram bucket", was.largestBin, got.largestBin}} {
		if r.name == "cohorts measured" {
			fmt.Fprintf(w, "%-28s %-22.0f %.0f\n", r.name, r.old, r.new)
			continue
		}
		fmt.Fprintf(w, "%-28s %-22s %s\n", r.name, pct(r.old), pct(r.new))
	}
	fmt.Fprintf(w, "per person-day: old eps %.4g (24 windows x eps 4, basic composition), new eps %.4g at delta %g (rho %.4g)\n\nold defaults:\n",
		oldPlan.DayEpsilon, plan.DayEpsilon, plan.DayDelta, plan.DayRho)
	oldPlan.Write(w)
	fmt.Fprintln(w, "\nnew defaults:")
	plan.Write(w)

	if got.cohorts < 20 {
		t.Fatalf("%d finest cohorts of 100-300 users published as themselves: too few to judge", got.cohorts)
	}
	for _, c := range []struct {
		name      string
		got, want float64
	}{{"users", got.users, 0.03}, {"reach message_sent", got.reachMsg, 0.25}, {"events total", got.events, 0.25}, {"largest histogram bucket", got.largestBin, 0.20}} {
		if !(c.got <= c.want) {
			t.Errorf("median relative error of %s: %s, want at most %s", c.name, pct(c.got), pct(c.want))
		}
	}
	if !(plan.DayEpsilon <= 8) || plan.DayDelta > 1e-8 {
		t.Errorf("per person-day: epsilon %g at delta %g, want at most 8 at 1e-8", plan.DayEpsilon, plan.DayDelta)
	}
	logBounds(t, evs)
}

// logBounds prints the per-user distributions behind the default bounds:
// events per user per day and call seconds per caller per day, with the
// share of events (seconds) the bound clamps.
func logBounds(t *testing.T, evs []dayEvent) {
	events, calls := map[string]float64{}, map[string]float64{}
	for _, e := range evs {
		events[e.user]++
		if e.e.Kind == schemas.KindCall {
			calls[e.user] += float64(e.e.N)
		}
	}
	for _, d := range []struct {
		name  string
		m     map[string]float64
		bound float64
	}{{"events per user per day", events, cohorts.DefaultEvents}, {"call seconds per caller per day", calls, cohorts.DefaultCallSeconds}} {
		var xs []float64
		var total, clamped float64
		users := 0
		for _, v := range d.m {
			xs = append(xs, v)
			total += v
			if v > d.bound {
				clamped += v - d.bound
				users++
			}
		}
		sort.Float64s(xs)
		q := func(p float64) float64 { return xs[int(p*float64(len(xs)-1))] }
		fmt.Printf("%s: p50 %.0f p90 %.0f p95 %.0f p99 %.0f; bound %.0f clamps %.1f%% of the total, from %.1f%% of them\n",
			d.name, q(0.5), q(0.9), q(0.95), q(0.99), d.bound, 100*clamped/total, 100*float64(users)/float64(len(xs)))
	}
}

// TestProfileOf measures the profile of a window's partials.
func TestProfileOf(t *testing.T) {
	spec := cohorts.DefaultSpec()
	parts := partialsV2(t, spec, 50, 3)
	p := ProfileOf(parts)
	var users, msg float64
	for _, x := range parts {
		users += float64(x.Users)
		msg += float64(x.Values[cohorts.MustFeatureSet(1).Slot("reach.kind.message_sent")])
	}
	if got := p["reach.kind.message_sent"]; math.Abs(got-msg/users) > 1e-12 || got <= 0 || got > 1 {
		t.Errorf("profile reach.kind.message_sent %g, want %g", got, msg/users)
	}
}
