package publish

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/cohortline/cohortline/cohorts"
	"github.com/cohortline/cohortline/cohorts/privacy"
)

// partialV2 is a layout-2 partial of users simulated users, each with a
// few events of random kinds, some with a business category.
func partialV2(t testing.TB, spec cohorts.Spec, key string, users int, r *rand.Rand) cohorts.Partial {
	t.Helper()
	k, err := cohorts.ParseKey(spec, key)
	if err != nil {
		t.Fatal(err)
	}
	slot := map[string]int{}
	for _, f := range cohorts.PartialFeatures() {
		slot[f.Name] = f.Index
	}
	groupOf := map[string]string{}
	var cats []string
	for _, g := range cohorts.CategoryGroups() {
		for _, c := range g.Categories {
			groupOf[c.String()] = g.Name
			cats = append(cats, c.String())
		}
	}
	kinds := []string{"message_sent", "call", "status_viewed", "catalog_viewed"}
	v := make([]uint64, cohorts.NumPartialValues())
	var events uint64
	for range users {
		n := 1 + r.IntN(12)
		reached := map[string]bool{}
		bump := func(name string, by uint64) {
			i, ok := slot[name]
			if !ok {
				t.Fatalf("no slot %s", name)
			}
			v[i] += by
		}
		for range n {
			kind := kinds[r.IntN(len(kinds))]
			peer, media := "individual", "text"
			names := []string{"kind." + kind, "peer." + peer, "media." + media}
			if kind == "catalog_viewed" {
				c := cats[r.IntN(len(cats))]
				names = []string{"kind." + kind, "peer.business", "media.image", "category." + c}
				if !reached["group."+groupOf[c]] {
					reached["group."+groupOf[c]] = true
					bump("reach.category_group."+groupOf[c], 1)
				}
			}
			for _, d := range names {
				if !reached[d] {
					reached[d] = true
					bump("reach."+d, 1)
				}
				bump("sum."+d, 1)
			}
			if kind == "call" {
				bump("sum.call_seconds", uint64(r.IntN(300)))
			}
		}
		events += uint64(n)
		bucket := map[bool]string{true: "1", false: "2_5"}[n == 1]
		if n > 5 {
			bucket = "6_20"
		}
		bump("hist.events."+bucket, 1)
	}
	return cohorts.Partial{Key: k, ID: k.ID(), Users: uint64(users), Events: events, Values: v}
}

func noiseV2(t testing.TB, spec cohorts.Spec) Noise {
	t.Helper()
	n, err := privacy.NewNoiser([]byte("a test secret of at least thirty-two bytes"))
	if err != nil {
		t.Fatal(err)
	}
	z, err := privacy.SplitZCDP(spec)
	if err != nil {
		t.Fatal(err)
	}
	return Noise{Noiser: n, ZBudget: &z}
}

func partialsV2(t testing.TB, spec cohorts.Spec, n int, seed uint64) []cohorts.Partial {
	r := rand.New(rand.NewPCG(seed, 2))
	var out []cohorts.Partial
	for _, p := range randomPartials(t, spec, n, seed) {
		out = append(out, partialV2(t, spec, p.Key.String(), int(p.Users), r))
	}
	return out
}

// TestReleaseV2Invariants: feature set 2 rows have 45 values, none
// negative or fractional, reach ≤ users, histogram buckets adding up to
// users, Σ category-group sums ≤ Σ kind sums, users ≥ k.
func TestReleaseV2Invariants(t *testing.T) {
	spec := cohorts.DefaultSpec()
	noise := noiseV2(t, spec)
	fs := cohorts.MustFeatureSet(2)
	for seed := range uint64(10) {
		in := partialsV2(t, spec, 150, seed)
		scope := privacy.Scope{Release: "r2", WindowStart: testWindow.Start, InputDigest: Digest(in)}
		rows, _, err := Release(spec, noise, scope, testWindow, in)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) == 0 {
			t.Fatal("no rows")
		}
		for _, r := range rows {
			if len(r.Features) != fs.Len() || r.FeatureSet != 2 || r.Users < uint64(spec.K) {
				t.Fatalf("row %s: %d features, feature set %d, users %d", r.Key, len(r.Features), r.FeatureSet, r.Users)
			}
			var hist, kinds, groups float32
			for i, f := range fs.Features {
				v := r.Features[i]
				if v < 0 || v != float32(math.Round(float64(v))) {
					t.Errorf("row %s: %s = %g, want a non-negative integer", r.Key, f.Name, v)
				}
				switch {
				case f.Kind == cohorts.FeatureReach && v > float32(r.Users):
					t.Errorf("row %s: %s = %g above users %d", r.Key, f.Name, v, r.Users)
				case f.Kind == cohorts.FeatureHistogram:
					hist += v
				case f.Kind == cohorts.FeatureSum && f.Group == "kind":
					kinds += v
				case f.Kind == cohorts.FeatureSum && f.Group == "category_group":
					groups += v
				}
			}
			if hist != float32(r.Users) || groups > kinds {
				t.Errorf("row %s: histogram total %g, users %d; group sums %g, kind sums %g", r.Key, hist, r.Users, groups, kinds)
			}
		}
	}
}

func TestReleaseV2OffBlockAndOldPartials(t *testing.T) {
	spec := cohorts.DefaultSpec()
	spec.Privacy.Blocks = map[string]cohorts.BlockBudget{"sum.call_seconds": {Off: true}}
	in := partialsV2(t, spec, 100, 1)
	rows, _, err := Release(spec, noiseV2(t, spec), privacy.Scope{Release: "r"}, testWindow, in)
	if err != nil || len(rows) == 0 {
		t.Fatalf("%v, %d rows", err, len(rows))
	}
	call := cohorts.MustFeatureSet(2).CallSlot()
	for _, r := range rows {
		if !math.IsNaN(float64(r.Features[call])) || math.IsNaN(float64(r.Features[0])) {
			t.Fatalf("row %s: call seconds %g (want NaN, its block is off), slot 0 %g", r.Key, r.Features[call], r.Features[0])
		}
	}
	old := []cohorts.Partial{partial(t, spec, "country=BR|lang=pt|age=25-34|platform=android", 80)}
	if _, _, err := Release(spec, noiseV2(t, spec), privacy.Scope{}, testWindow, old); err == nil || !strings.Contains(err.Error(), "backfill") {
		t.Errorf("layout-1 partials under feature set 2: %v, want an error that says to backfill", err)
	}
}

func testPublisherV2(t *testing.T, store Store, budget Budget) *Publisher {
	t.Helper()
	spec := cohorts.DefaultSpec()
	p, err := NewPublisher(Config{Spec: spec, Noise: noiseV2(t, spec), Budget: budget, CodeVersion: "test", Mode: ModeProduction,
		Now: func() time.Time { return time.Unix(1_800_000_000, 0) }}, store)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPublisherV2Budget: under the default per-person-day budget (ε 8 at
// δ 10^-8) a daily release of ρ 0.4 (ε 5.38) fits; an identical
// republish is free and gives the same rows; one republish of changed
// partials brings the day to ρ 0.8 (ε 7.91) and fits, a second would
// bring it to ρ 1.2 (ε 9.96) and is refused, writing nothing. The ledger books ρ, and the day's ε is the closed form of the
// ρ sum.
func TestPublisherV2Budget(t *testing.T) {
	store := newMemStore()
	spec := cohorts.DefaultSpec()
	store.partials[testWindow.Start] = partialsV2(t, spec, 150, 5)
	p := testPublisherV2(t, store, Budget{})
	ctx := t.Context()
	first, err := p.PublishRange(ctx, day, day.Add(24*time.Hour))
	if err != nil || len(first) != 1 {
		t.Fatalf("first publish: %v", err)
	}
	e := first[0].Ledger
	if e.RhoSpent != e.Rho || e.Rho > 0.4 || e.Rho < 0.4*(1-1e-6) || e.Epsilon != 0 || e.EpsilonSpent != 0 || !strings.HasSuffix(e.Release, "-fs2") {
		t.Errorf("first ledger entry: ρ %g spent %g, ε %g spent %g, release %s; want ρ 0.4 spent, no pure ε, fs2", e.Rho, e.RhoSpent, e.Epsilon, e.EpsilonSpent, e.Release)
	}
	if eps := privacy.EpsilonOf(e.RhoSpent, 1e-8-e.ReleaseDelta); math.Abs(eps-5.38) > 0.01 {
		t.Errorf("one daily release: ε %g at δ 1e-8, want 5.38", eps)
	}
	rows := append([]Row(nil), store.rows[testWindow.Start]...)

	again, err := p.PublishRange(ctx, day, day.Add(24*time.Hour))
	if err != nil || again[0].Ledger.RhoSpent != 0 || !again[0].Ledger.Republish {
		t.Fatalf("identical republish: %v, %+v; want free", err, again)
	}
	for i, r := range store.rows[testWindow.Start] {
		if r.Users != rows[i].Users || !equalFloats(r.Features, rows[i].Features) {
			t.Fatalf("identical republish changed row %s", r.Key)
		}
	}

	for round := 1; round <= 2; round++ {
		changed := append([]cohorts.Partial(nil), store.partials[testWindow.Start]...)
		changed[0].Users++
		store.partials[testWindow.Start] = changed
		writes := len(store.writes)
		res, err := p.PublishRange(ctx, day, day.Add(24*time.Hour))
		if round == 1 {
			if err != nil || res[0].Ledger.RhoSpent != e.Rho {
				t.Fatalf("changed republish (day at ρ 0.8, ε 7.91): %v, want charged", err)
			}
			continue
		}
		if !errors.Is(err, ErrBudget) || !strings.Contains(err.Error(), "publish.budget.day.epsilon 8") {
			t.Fatalf("third charged release of the day: %v, want ErrBudget naming publish.budget.day", err)
		}
		if w := dataWrites(store.writes[writes:]); len(w) > 0 {
			t.Errorf("a refused release wrote %v", w)
		}
	}
	var sum float64
	for _, e := range store.ledger {
		sum += e.RhoSpent
	}
	if math.Abs(sum-2*e.Rho) > 1e-12 {
		t.Errorf("ledger ρ sum %g, want two releases' %g", sum, 2*e.Rho)
	}
}

// TestPublisherV2WeekBudget: hourly-sized releases fit a day, but the
// week's allowance stops them once the week's ρ sum converts above it.
func TestPublisherV2WeekBudget(t *testing.T) {
	store := newMemStore()
	spec := cohorts.DefaultSpec()
	store.partials[testWindow.Start] = partialsV2(t, spec, 150, 6)
	// A week of ε 6 at 10^-8 holds one release of ρ 0.4 (ε 5.38), not two,
	// though each day (ε 8) would.
	p := testPublisherV2(t, store, Budget{Week: Allowance{Epsilon: 6, Delta: 1e-8}})
	if _, err := p.PublishRange(t.Context(), day, day.Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	next := testWindow.Start + 24*3600*1000
	if weekStart(time.UnixMilli(next)) != weekStart(time.UnixMilli(testWindow.Start)) {
		next = testWindow.Start - 24*3600*1000
	}
	store.partials = map[int64][]cohorts.Partial{next: partialsV2(t, spec, 150, 7)}
	d := time.UnixMilli(next).UTC()
	if _, err := p.PublishRange(t.Context(), d, d.Add(24*time.Hour)); !errors.Is(err, ErrBudget) || !strings.Contains(err.Error(), "week of") {
		t.Errorf("a second day in the week: %v, want ErrBudget for the week", err)
	}
}

func equalFloats(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] && !(math.IsNaN(float64(a[i])) && math.IsNaN(float64(b[i]))) {
			return false
		}
	}
	return true
}

// TestCheckNoise: the daily default passes the k-threshold δ; hourly
// windows at the default ρ per day do not (each window gets 1/24 of it),
// and the error says what to change.
func TestCheckNoise(t *testing.T) {
	if err := CheckNoise(cohorts.DefaultSpec()); err != nil {
		t.Errorf("default spec: %v", err)
	}
	hourly := cohorts.DefaultSpec()
	hourly.Window, hourly.Privacy.Rho = time.Hour, cohorts.DefaultRho(time.Hour)
	if err := CheckNoise(hourly); err == nil || !strings.Contains(err.Error(), "cohorts.privacy.delta") || !strings.Contains(err.Error(), "feature_set: 1") {
		t.Errorf("hourly fs2 at the default rho: %v", err)
	}
	hourly.FeatureSet = cohorts.FeatureSetV1Version
	if err := CheckNoise(hourly); err != nil {
		t.Errorf("hourly fs1: %v", err)
	}
	if _, err := NewPublisher(Config{Spec: cohorts.DefaultSpec(), Mode: ModeTest, Budget: Budget{Day: Allowance{Epsilon: 3, Delta: 1e-8}}, Noise: noiseV2(t, cohorts.DefaultSpec())}, newMemStore()); err == nil || !strings.Contains(err.Error(), "publish.budget.day") {
		t.Errorf("a day budget below one release: %v", err)
	}
}

// TestPublisherRecordsNoise: a release records each slot's sigma (the
// plan's), NaN for an off block's, and the users count's.
func TestPublisherRecordsNoise(t *testing.T) {
	store := newMemStore()
	spec := cohorts.DefaultSpec()
	spec.Privacy.Blocks = map[string]cohorts.BlockBudget{"sum.call_seconds": {Off: true}}
	store.partials[testWindow.Start] = partialsV2(t, spec, 120, 8)
	p, err := NewPublisher(Config{Spec: spec, Noise: noiseV2(t, spec), CodeVersion: "test", Mode: ModeProduction}, store)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.PublishRange(t.Context(), day, day.Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	got := store.noise[p.Release()]
	fs := cohorts.MustFeatureSet(2)
	if len(got) != fs.Len()+1 || got[0].Name != "users" || !(got[0].Sigma > 0) {
		t.Fatalf("noise %+v", got)
	}
	z, _ := privacy.SplitZCDP(spec)
	reach, _ := z.Scale(0)
	if s := got[1]; s.Name != fs.Features[0].Name || math.Abs(s.Sigma-math.Sqrt(reach.Variance())) > 1e-9 {
		t.Errorf("slot 0: %+v, want sigma %g", s, math.Sqrt(reach.Variance()))
	}
	if s := got[1+fs.CallSlot()]; !math.IsNaN(s.Sigma) {
		t.Errorf("call seconds (block off): sigma %g, want NaN", s.Sigma)
	}
}

// TestMakePlan pins the default plan's privacy figures: one daily release
// is ρ 0.4, ε 5.38 at 10^-8; the day's ε 8 holds 2 releases, the week's
// ε 20 holds 9.
func TestMakePlan(t *testing.T) {
	p, err := MakePlan(cohorts.DefaultSpec(), Budget{}, DefaultProfile)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(p.DayEpsilon-5.38) > 0.005 || p.DayDelta != 1e-8 || p.WindowsPerDay != 1 || p.ReleasesPerDay != 2 || p.ReleasesPerWeek != 9 {
		t.Errorf("plan: day ε %g at δ %g, %d windows, %d releases a day, %d a week", p.DayEpsilon, p.DayDelta, p.WindowsPerDay, p.ReleasesPerDay, p.ReleasesPerWeek)
	}
	// The error table is σ/(n·mean): reach of message_sent at n = 1000.
	z, _ := privacy.SplitZCDP(cohorts.DefaultSpec())
	reach, _ := z.Scale(0)
	want := math.Sqrt(reach.Variance()) / (1000 * DefaultProfile["reach.kind.message_sent"])
	if got := p.Errors[1].RelErr[2]; p.Errors[1].Feature != "reach, message_sent" || math.Abs(got-want) > 1e-12 {
		t.Errorf("%s at n=1000: %g, want %g", p.Errors[1].Feature, got, want)
	}
	var b strings.Builder
	if err := p.Write(&b); err != nil || !strings.Contains(b.String(), "2 release(s) of every window a day") || !strings.Contains(b.String(), "9 release(s) of every window a week") {
		t.Errorf("Write: %v\n%s", err, b.String())
	}
}

// TestBudgetThresholdDelta: feature set 1 releases each carry the k
// thresholds' δ (≈ 9·10^-9 at ε 4, k 50); a day allowance of δ 10^-8
// takes one, and refuses the second naming the δ.
func TestBudgetThresholdDelta(t *testing.T) {
	spec := specV1()
	spec.Window, spec.Privacy.Rho = time.Hour, cohorts.DefaultRho(time.Hour)
	store := newMemStore()
	w0 := spec.WindowOf(testWindow.Start)
	store.partials[w0.Start] = randomPartials(t, spec, 100, 4)
	p, err := NewPublisher(Config{Spec: spec, Noise: noiseFor(t, spec), Budget: Budget{Day: Allowance{Epsilon: 100, Delta: 1e-8}},
		CodeVersion: "test", Mode: ModeProduction}, store)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.PublishRange(t.Context(), day, day.Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	store.partials = map[int64][]cohorts.Partial{w0.End: randomPartials(t, spec, 100, 5)}
	if _, err := p.PublishRange(t.Context(), day, day.Add(24*time.Hour)); !errors.Is(err, ErrBudget) || !strings.Contains(err.Error(), "publish.budget.day.delta") {
		t.Errorf("second release of the day: %v, want ErrBudget naming publish.budget.day.delta", err)
	}
}
