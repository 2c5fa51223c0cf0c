package cohorts

import (
	"reflect"
	"testing"
	"time"
)

const exampleSpec = `
version: 1                                   # spec version, part of the "release"
dimensions: [country, lang, age, platform]
generalize: [platform, age, lang, country]   # drop these first when a cohort is too small
k: 50
window: 1h
allowed_lateness: 5m
bounds:                                      # per-user contribution bounds per window
  events: 100                                # max events counted per user per window
  call_seconds: 3600
`

var defaultPrivacy = Privacy{Epsilon: DefaultEpsilon, Delta: DefaultDelta, Rho: DefaultRhoPerDay}

// hourlyPrivacy is defaultPrivacy for 1h windows: ρ scaled to 1/24.
var hourlyPrivacy = Privacy{Epsilon: DefaultEpsilon, Delta: DefaultDelta, Rho: DefaultRhoPerDay / 24}

func TestParseSpecValid(t *testing.T) {
	all := []Dimension{DimCountry, DimLang, DimAge, DimPlatform}
	tests := []struct {
		name string
		yaml string
		want Spec
	}{
		{"example", exampleSpec, Spec{
			Version:         1,
			Dimensions:      all,
			Generalize:      []Dimension{DimPlatform, DimAge, DimLang, DimCountry},
			K:               50,
			Window:          time.Hour,
			AllowedLateness: 5 * time.Minute,
			Bounds:          Bounds{Events: 100, CallSeconds: 3600},
			FeatureSet:      2,
			Privacy:         hourlyPrivacy,
		}},
		{"defaults", "k: 20\n", Spec{
			Version:    1,
			Dimensions: all,
			Generalize: []Dimension{DimPlatform, DimAge, DimLang, DimCountry},
			K:          20,
			Window:     24 * time.Hour,
			Bounds:     Bounds{Events: 25, CallSeconds: 600},
			FeatureSet: 2,
			Privacy:    defaultPrivacy,
		}},
		{"subset, generalize defaults to reversed", "dimensions: [age, country]\nwindow: 15m\nbounds: {events: 7}\n", Spec{
			Version:    1,
			Dimensions: []Dimension{DimAge, DimCountry},
			Generalize: []Dimension{DimCountry, DimAge},
			K:          50,
			Window:     15 * time.Minute,
			Bounds:     Bounds{Events: 7, CallSeconds: 600},
			FeatureSet: 2,
			Privacy:    Privacy{Epsilon: DefaultEpsilon, Delta: DefaultDelta, Rho: DefaultRhoPerDay / 96},
		}},
		{"day window, lateness just under it", "window: 24h\nallowed_lateness: 23h59m59.999s\n", Spec{
			Version:         1,
			Dimensions:      all,
			Generalize:      []Dimension{DimPlatform, DimAge, DimLang, DimCountry},
			K:               50,
			Window:          24 * time.Hour,
			AllowedLateness: 24*time.Hour - time.Millisecond,
			Bounds:          Bounds{Events: 25, CallSeconds: 600},
			FeatureSet:      2,
			Privacy:         defaultPrivacy,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSpec([]byte(tt.yaml))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
	if !reflect.DeepEqual(DefaultSpec(), mustParseSpec(t, "{}")) {
		t.Error("DefaultSpec() differs from an empty mapping")
	}
}

func TestParseSpecInvalid(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown top-level key", "k: 50\nwindows: 1h\n",
			"cohort spec: line 2: field windows not found in type cohorts.Spec"},
		{"unknown nested key", "k: 50\nbounds:\n  events: 10\n  call_secs: 60\n",
			"cohort spec: line 4: field call_secs not found in type cohorts.Bounds"},
		{"repeated key", "k: 50\nk: 60\n",
			`cohort spec: line 2: mapping key "k" already defined at line 1`},
		{"empty document", "# nothing\n",
			"cohort spec: empty document"},
		{"two documents", "k: 50\n---\nk: 60\n",
			"cohort spec: line 2: a second YAML document; want exactly one"},
		{"not a mapping", "- k\n",
			"cohort spec: line 1: cannot unmarshal !!seq into cohorts.Spec"},
		{"k quoted", "k: \"50\"\n",
			"cohort spec: line 1: cannot unmarshal !!str `50` into int"},
		{"k not a number", "k: fifty\n",
			"cohort spec: line 1: cannot unmarshal !!str `fifty` into int"},
		{"window as a number", "window: 3600\n",
			"cohort spec: line 1: cannot unmarshal !!int `3600` into time.Duration"},
		{"window not a duration", "window: 1 hour\n",
			"cohort spec: line 1: cannot unmarshal !!str `1 hour` into time.Duration"},
		{"version", "version: -1\n",
			"cohort spec: version: -1, want at least 1"},
		{"dimensions empty", "dimensions: []\ngeneralize: []\n",
			"cohort spec: dimensions: empty, want some of country, lang, age, platform"},
		{"dimensions unknown", "dimensions: [country, region]\n",
			`cohort spec: dimensions: "region" is not a known dimension (known: country, lang, age, platform)`},
		{"dimensions repeated", "dimensions: [country, age, country]\n",
			`cohort spec: dimensions: "country" is listed twice`},
		{"generalize typo", "generalize: [platfrom, age, lang, country]\n",
			`cohort spec: generalize: "platfrom" is not a dimension (dimensions: country, lang, age, platform)`},
		{"generalize outside dimensions", "dimensions: [country, lang]\ngeneralize: [age, lang, country]\n",
			`cohort spec: generalize: "age" is not a dimension (dimensions: country, lang)`},
		{"generalize repeated", "generalize: [platform, age, age, lang, country]\n",
			`cohort spec: generalize: "age" is listed twice`},
		{"generalize missing one", "generalize: [platform, age, country]\n",
			`cohort spec: generalize: "lang" is missing (generalize must list every dimension once)`},
		{"k too small", "k: 1\n",
			"cohort spec: k: 1, want at least 2"},
		{"k negative", "k: -5\n",
			"cohort spec: k: -5, want at least 2"},
		{"window negative", "window: -1h\n",
			"cohort spec: window: -1h, want a positive duration"},
		{"window not whole minutes", "window: 90s\n",
			"cohort spec: window: 1m30s, want a whole number of minutes"},
		{"window not dividing a day", "window: 7m\n",
			"cohort spec: window: 7m does not divide 24h (windows must align to day partitions)"},
		{"window over a day", "window: 48h\n",
			"cohort spec: window: 48h does not divide 24h (windows must align to day partitions)"},
		{"lateness negative", "allowed_lateness: -5m\n",
			"cohort spec: allowed_lateness: -5m, want at least 0"},
		{"lateness equal to window", "window: 30m\nallowed_lateness: 30m\n",
			"cohort spec: allowed_lateness: 30m, want less than window (30m)"},
		{"lateness over window", "window: 1h\nallowed_lateness: 2h30m\n",
			"cohort spec: allowed_lateness: 2h30m, want less than window (1h)"},
		{"unknown feature set", "feature_set: 3\n", "cohort spec: feature_set: 3, want 1 or 2"},
		{"rho", "privacy: {rho: -1}\n", "cohort spec: privacy.rho: -1, want more than 0 and at most 10"},
		{"unknown block", "privacy: {blocks: {sum.peer: {weight: 3}}}\n",
			`cohort spec: privacy.blocks: "sum.peer" is not a block (blocks: users, reach, sum.kind, sum.category_group, hist, sum.call_seconds)`},
		{"users off", "privacy: {blocks: {users: {off: true}}}\n",
			"cohort spec: privacy.blocks.users.off: the users count decides the k threshold and cannot be off"},
		{"bad mechanism", "privacy: {blocks: {hist: {mechanism: cauchy}}}\n",
			`cohort spec: privacy.blocks.hist.mechanism: "cauchy", want gaussian or laplace`},
		{"negative weight", "privacy: {blocks: {hist: {weight: -2}}}\n",
			"cohort spec: privacy.blocks.hist.weight: -2, want a positive number"},
		{"blocks with feature set 1", "feature_set: 1\nprivacy: {blocks: {hist: {weight: 2}}}\n",
			"cohort spec: privacy.blocks: set for feature_set 1; blocks apply to feature_set 2 only (feature set 1 splits privacy.epsilon)"},
		{"lateness below a millisecond", "allowed_lateness: 1500us\n",
			"cohort spec: allowed_lateness: 1.5ms, want whole milliseconds (event times are in ms)"},
		{"bounds.events", "bounds:\n  events: -1\n",
			"cohort spec: bounds.events: -1, want at least 1"},
		{"privacy.epsilon negative", "privacy: {epsilon: -0.5}\n",
			"cohort spec: privacy.epsilon: -0.5, want more than 0 and at most 100"},
		{"privacy.epsilon NaN", "privacy: {epsilon: .nan}\n",
			"cohort spec: privacy.epsilon: NaN, want more than 0 and at most 100"},
		{"privacy.epsilon too large", "privacy: {epsilon: 1000}\n",
			"cohort spec: privacy.epsilon: 1000, want more than 0 and at most 100"},
		{"privacy.delta", "privacy: {delta: 0.5}\n",
			"cohort spec: privacy.delta: 0.5, want more than 0 and less than 0.01"},
		{"privacy unknown key", "privacy: {eps: 1}\n",
			"cohort spec: line 1: field eps not found in type cohorts.Privacy"},
		{"bounds.call_seconds", "bounds:\n  call_seconds: -3600\n",
			"cohort spec: bounds.call_seconds: -3600, want at least 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseSpec([]byte(tt.yaml))
			if err == nil {
				t.Fatalf("no error, want %q", tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("error\n got %q\nwant %q", err, tt.want)
			}
		})
	}
}

func TestValidateZeroSpec(t *testing.T) {
	// A Spec built in Go without defaults must fail cleanly, not divide by
	// a zero window.
	err := Spec{}.Validate()
	want := "cohort spec: version: 0, want at least 1"
	if err == nil || err.Error() != want {
		t.Errorf("Spec{}.Validate() = %v, want %q", err, want)
	}
	s := DefaultSpec()
	s.Window = 0
	if err := s.Validate(); err == nil || err.Error() != "cohort spec: window: 0s, want a positive duration" {
		t.Errorf("zero window: %v", err)
	}
	if err := DefaultSpec().Validate(); err != nil {
		t.Errorf("DefaultSpec: %v", err)
	}
}

// TestSpecHashGolden pins the hash of the example spec: it is written to
// the privacy ledger, and a change would read as a new release.
func TestSpecHashGolden(t *testing.T) {
	const want = "460508c6ea34ec6278e3abb7cd34f28be0d568d7894ed47262a389700e9de292"
	if got := mustParseSpec(t, exampleSpec).Hash(); got != want {
		t.Errorf("Hash() = %s, want %s", got, want)
	}
}

func TestSpecHashStable(t *testing.T) {
	base := mustParseSpec(t, exampleSpec).Hash()
	same := map[string]string{
		"reordered keys, flow style, no comments": `
bounds: {call_seconds: 3600, events: 100}
allowed_lateness: 300s
window: 60m
k: 50
generalize:
  - platform
  - age
  - lang
  - country
dimensions: [country, lang, age, platform]
version: 1
`,
		"defaults left out": "window: 1h\nallowed_lateness: 5m\nbounds: {events: 100, call_seconds: 3600}\n",
		"defaults as zero":  "version: 0\nk: 0\nwindow: 1h\nallowed_lateness: 5m\nbounds: {events: 100, call_seconds: 3600}\nfeature_set: 0\n",
		"quoted scalars":    `{"k": 50, "window": "1h", "allowed_lateness": "5m", "bounds": {"events": 100, "call_seconds": 3600}}`,
		"privacy defaults":  "window: 1h\nallowed_lateness: 5m\nbounds: {events: 100, call_seconds: 3600}\nprivacy: {epsilon: 4, delta: 0.000001, rho: 0.016666666666666666}\n",
		"block defaults":    "window: 1h\nallowed_lateness: 5m\nbounds: {events: 100, call_seconds: 3600}\nfeature_set: 2\nprivacy: {blocks: {hist: {weight: 10, mechanism: gaussian}}}\n",
	}
	for name, y := range same {
		if got := mustParseSpec(t, y).Hash(); got != base {
			t.Errorf("%s: hash %s, want %s", name, got, base)
		}
	}
	if got := DefaultSpec(); got.Hash() == base {
		t.Error("default spec (no lateness) has the example's hash")
	}

	// Every change of value changes the hash.
	changes := map[string]string{
		"version":          "version: 2\nallowed_lateness: 5m\n",
		"dimension order":  "dimensions: [lang, country, age, platform]\ngeneralize: [platform, age, lang, country]\nallowed_lateness: 5m\n",
		"dimension subset": "dimensions: [country, lang, age]\nallowed_lateness: 5m\n",
		"generalize order": "generalize: [age, platform, lang, country]\nallowed_lateness: 5m\n",
		"k":                "k: 51\nallowed_lateness: 5m\n",
		"window":           "window: 2h\nallowed_lateness: 5m\n",
		"lateness":         "allowed_lateness: 6m\n",
		"bounds.events":    "bounds: {events: 101}\nallowed_lateness: 5m\n",
		"bounds.call":      "bounds: {call_seconds: 3599}\nallowed_lateness: 5m\n",
		"privacy.epsilon":  "privacy: {epsilon: 0.5}\nallowed_lateness: 5m\n",
		"privacy.delta":    "privacy: {delta: 1e-7}\nallowed_lateness: 5m\n",
		"feature_set":      "window: 1h\nallowed_lateness: 5m\nbounds: {events: 100, call_seconds: 3600}\nfeature_set: 1\n",
		"privacy.rho":      "window: 1h\nallowed_lateness: 5m\nbounds: {events: 100, call_seconds: 3600}\nprivacy: {rho: 0.02}\n",
		"block weight":     "window: 1h\nallowed_lateness: 5m\nbounds: {events: 100, call_seconds: 3600}\nprivacy: {blocks: {hist: {weight: 11}}}\n",
		"block off":        "window: 1h\nallowed_lateness: 5m\nbounds: {events: 100, call_seconds: 3600}\nprivacy: {blocks: {hist: {off: true}}}\n",
		"block mechanism":  "window: 1h\nallowed_lateness: 5m\nbounds: {events: 100, call_seconds: 3600}\nprivacy: {blocks: {hist: {mechanism: laplace}}}\n",
	}
	seen := map[string]string{base: "example"}
	for name, y := range changes {
		h := mustParseSpec(t, y).Hash()
		if prev, dup := seen[h]; dup {
			t.Errorf("%s: same hash as %s", name, prev)
		}
		seen[h] = name
	}
}

func mustParseSpec(t testing.TB, y string) Spec {
	t.Helper()
	s, err := ParseSpec([]byte(y))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSpecCanonical(t *testing.T) {
	want := `cohortline cohort spec, canonical form 1
version=1
dimensions=country,lang,age,platform
generalize=platform,age,lang,country
k=50
window_ns=3600000000000
allowed_lateness_ns=300000000000
bounds.events=100
bounds.call_seconds=3600
`
	if got := mustParseSpec(t, exampleSpec).canonical(); got != want {
		t.Errorf("canonical form\n%s\nwant\n%s", got, want)
	}
}

func FuzzParseSpec(f *testing.F) {
	f.Add(exampleSpec)
	f.Add("dimensions: [age]\nk: 2\nwindow: 1m\n")
	f.Add("bounds: {events: 1}\n---\n")
	f.Add("window: 7m\n")
	f.Fuzz(func(t *testing.T, y string) {
		s, err := ParseSpec([]byte(y))
		if err != nil {
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("ParseSpec accepted a spec that fails Validate: %v", err)
		}
		if s.Hash() != s.Hash() {
			t.Fatal("Hash is not deterministic")
		}
		k := KeyOf(s, exampleEvent())
		if got, err := ParseKey(s, k.String()); err != nil || got != k {
			t.Fatalf("key round trip under %+v: %v", s, err)
		}
	})
}
