package publish

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/cohortline/cohortline/cohorts"
	"github.com/cohortline/cohortline/cohorts/privacy"
)

var testWindow = cohorts.WindowOf(1_790_000_000_000, cohorts.DefaultWindow)

// partial is a finest cohort with users users, each with one event of
// slot 0 and one of slot 3.
func partial(t testing.TB, spec cohorts.Spec, key string, users uint64) cohorts.Partial {
	t.Helper()
	k, err := cohorts.ParseKey(spec, key)
	if err != nil {
		t.Fatal(err)
	}
	v := make([]uint64, cohorts.NumFeaturesV1())
	v[0], v[3] = users, 2*users
	return cohorts.Partial{Key: k, ID: k.ID(), Users: users, Events: 3 * users, Values: v}
}

func noiseFor(t testing.TB, spec cohorts.Spec) Noise {
	t.Helper()
	n, err := privacy.NewNoiser([]byte("a test secret of at least thirty-two bytes"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := privacy.Split(spec, spec.Privacy.Epsilon)
	if err != nil {
		t.Fatal(err)
	}
	return Noise{Noiser: n, Budget: &b}
}

// TestReleaseGeneralizes follows the chain without noise: a finest cohort
// at k is published as itself, small siblings merge one level up, and what
// stays below k at the top is suppressed.
func TestReleaseGeneralizes(t *testing.T) {
	spec := specV1() // generalize: platform, age, lang, country; k = 50
	in := []cohorts.Partial{
		partial(t, spec, "country=BR|lang=pt|age=25-34|platform=android", 60), // level 0
		partial(t, spec, "country=BR|lang=pt|age=25-34|platform=ios", 30),     // with web: level 1
		partial(t, spec, "country=BR|lang=pt|age=25-34|platform=web", 25),
		partial(t, spec, "country=BR|lang=pt|age=35-44|platform=ios", 20), // with 45-54: level 2
		partial(t, spec, "country=BR|lang=pt|age=45-54|platform=ios", 31),
		partial(t, spec, "country=DE|lang=de|age=18-24|platform=web", 7), // alone: suppressed
	}
	rows, stats, err := Release(spec, Noise{}, privacy.Scope{}, testWindow, in)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][2]uint64{}
	for _, r := range rows {
		if r.ID != r.Key.ID() || r.Window != testWindow {
			t.Errorf("row %s: id %d, window %s", r.Key, r.ID, r.Window)
		}
		if r.Features[0] != float32(r.Users) || r.Features[3] != float32(2*r.Users) {
			t.Errorf("row %s: features %v…, want the members' sums", r.Key, r.Features[:4])
		}
		got[r.Key.String()] = [2]uint64{uint64(r.Level), r.Users}
	}
	want := map[string][2]uint64{
		"country=BR|lang=pt|age=25-34|platform=android": {0, 60},
		"country=BR|lang=pt|age=25-34|platform=*":       {1, 55},
		"country=BR|lang=pt|age=*|platform=*":           {2, 51},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rows = %v\nwant %v", got, want)
	}
	wantStats := Stats{Finest: 6, PublishedFinest: 1, Merged: 4, Suppressed: 1, SuppressedUsers: 7, Rows: 3,
		RowsByLevel: map[int]int{0: 1, 1: 1, 2: 1}}
	if !reflect.DeepEqual(stats, wantStats) {
		t.Errorf("stats = %+v\nwant %+v", stats, wantStats)
	}
}

// randomPartials is a window of n finest cohorts with sizes from a skewed
// distribution, most of them below k.
func randomPartials(t testing.TB, spec cohorts.Spec, n int, seed uint64) []cohorts.Partial {
	r := rand.New(rand.NewPCG(seed, 1))
	countries := []string{"BR", "DE", "IN", "US", "NG", "ID"}
	langs := []string{"pt", "de", "hi", "en"}
	ages := []string{"18-24", "25-34", "35-44", "45-54", "55-64", "65+", "unknown"}
	platforms := []string{"android", "ios", "web", "desktop"}
	seen := map[string]bool{}
	var out []cohorts.Partial
	for len(out) < n {
		key := fmt.Sprintf("country=%s|lang=%s|age=%s|platform=%s", countries[r.IntN(len(countries))],
			langs[r.IntN(len(langs))], ages[r.IntN(len(ages))], platforms[r.IntN(len(platforms))])
		if seen[key] {
			continue
		}
		seen[key] = true
		users := uint64(1 + r.ExpFloat64()*40)
		out = append(out, partial(t, spec, key, users))
	}
	return out
}

// TestReleaseInvariants: with noise, over many windows, every finest
// cohort is in exactly one row or suppressed (rows partition the users),
// no row's noisy count is below k, and each row's key is its members'
// ancestor at the row's level. Privacy invariant 3.
func TestReleaseInvariants(t *testing.T) {
	spec := specV1()
	noise := noiseFor(t, spec)
	for seed := range uint64(40) {
		in := randomPartials(t, spec, 200, seed)
		scope := privacy.Scope{Release: "r1", WindowStart: testWindow.Start, InputDigest: Digest(in)}
		rows, stats, err := Release(spec, noise, scope, testWindow, in)
		if err != nil {
			t.Fatal(err)
		}
		covered := 0
		for _, r := range rows {
			if r.Users < uint64(spec.K) {
				t.Fatalf("seed %d: row %s has %d users, below k = %d", seed, r.Key, r.Users, spec.K)
			}
			if lvl, ok := spec.ChainLevel(r.Key); !ok || lvl != r.Level {
				t.Errorf("seed %d: row %s at level %d, its key is at chain level %d (%v)", seed, r.Key, r.Level, lvl, ok)
			}
			covered += r.Covers
		}
		if covered+stats.Suppressed != len(in) || stats.PublishedFinest+stats.Merged != covered {
			t.Errorf("seed %d: %d covered + %d suppressed, %d finest cohorts; stats %+v", seed, covered, stats.Suppressed, len(in), stats)
		}
		// Each finest cohort's most specific published ancestor is the row
		// that covers it, and a suppressed cohort has none: the rule that
		// lookups rely on.
		covers := map[cohorts.Key]int{}
		for _, r := range rows {
			covers[r.Key] = 0
		}
		orphans := 0
		for _, p := range in {
			found := false
			for _, k := range spec.Ancestors(p.Key) {
				if _, ok := covers[k]; ok {
					covers[k]++
					found = true
					break
				}
			}
			if !found {
				orphans++
			}
		}
		for _, r := range rows {
			if covers[r.Key] != r.Covers {
				t.Errorf("seed %d: row %s covers %d finest cohorts, %d have it as their most specific published ancestor", seed, r.Key, r.Covers, covers[r.Key])
			}
		}
		if orphans != stats.Suppressed {
			t.Errorf("seed %d: %d finest cohorts have no published ancestor, %d were suppressed", seed, orphans, stats.Suppressed)
		}
	}
}

// TestReleaseDeterministic: the same partials, in any order, give the
// same rows (a republish or a backfill publishes the same numbers);
// changed partials give fresh noise on every row, not the old noise plus
// the change (which would reveal the change exactly).
func TestReleaseDeterministic(t *testing.T) {
	spec := specV1()
	noise := noiseFor(t, spec)
	in := randomPartials(t, spec, 300, 7)
	release := func(ps []cohorts.Partial) []Row {
		scope := privacy.Scope{Release: "r1", WindowStart: testWindow.Start, InputDigest: Digest(ps)}
		rows, _, err := Release(spec, noise, scope, testWindow, ps)
		if err != nil {
			t.Fatal(err)
		}
		return rows
	}
	first := release(in)
	shuffled := append([]cohorts.Partial(nil), in...)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	if again := release(shuffled); !reflect.DeepEqual(first, again) {
		t.Fatal("the same partials in another order gave other rows")
	}

	// One straggler user in one cohort.
	changed := append([]cohorts.Partial(nil), in...)
	changed[0].Values = append([]uint64(nil), changed[0].Values...)
	changed[0].Users++
	changed[0].Values[0]++
	if Digest(changed) == Digest(in) {
		t.Fatal("a changed input has the same digest")
	}
	after := release(changed)
	byKey := map[cohorts.Key]Row{}
	for _, r := range first {
		byKey[r.Key] = r
	}
	same := 0
	for _, r := range after {
		if old, ok := byKey[r.Key]; ok && reflect.DeepEqual(old.Features, r.Features) {
			same++
		}
	}
	if same > 0 {
		t.Errorf("%d of %d rows kept their exact features after the input changed: noise was reused", same, len(after))
	}
}

// TestReleaseNoiseIsReal: with noise the published counts differ from the
// true ones (on average by about the noise's standard deviation), and
// without it they are exact.
func TestReleaseNoiseIsReal(t *testing.T) {
	spec := specV1()
	in := randomPartials(t, spec, 300, 11)
	exact, _, err := Release(spec, Noise{}, privacy.Scope{}, testWindow, in)
	if err != nil {
		t.Fatal(err)
	}
	noise := noiseFor(t, spec)
	noisy, _, err := Release(spec, noise, privacy.Scope{Release: "r1", InputDigest: Digest(in)}, testWindow, in)
	if err != nil {
		t.Fatal(err)
	}
	trueUsers := map[cohorts.Key]uint64{}
	for _, p := range in {
		trueUsers[p.Key] = p.Users
	}
	differ, n := 0, 0
	for _, r := range noisy {
		if r.Level != 0 {
			continue
		}
		n++
		if r.Users != trueUsers[r.Key] {
			differ++
		}
	}
	if n == 0 || differ < n/2 {
		t.Errorf("%d of %d finest rows have a noisy count different from the true one", differ, n)
	}
	for _, r := range exact {
		if r.Level == 0 && r.Users != trueUsers[r.Key] {
			t.Errorf("without noise row %s has %d users, true %d", r.Key, r.Users, trueUsers[r.Key])
		}
	}
}

func TestReleaseRejectsBadInput(t *testing.T) {
	spec := specV1()
	p := partial(t, spec, "country=BR|lang=pt|age=25-34|platform=android", 60)
	short := p
	short.Values = short.Values[:3]
	gen := p
	gen.Key = spec.Ancestor(p.Key, 1)
	for name, in := range map[string]cohorts.Partial{"short values": short, "generalized key": gen} {
		if _, _, err := Release(spec, Noise{}, privacy.Scope{}, testWindow, []cohorts.Partial{in}); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// specV1 is the default spec publishing feature set 1, as every release
// did before feature set 2: the tests of the pure-ε path use it.
func specV1() cohorts.Spec {
	s := cohorts.DefaultSpec()
	s.FeatureSet = cohorts.FeatureSetV1Version
	return s
}
