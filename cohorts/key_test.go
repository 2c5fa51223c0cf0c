package cohorts

import (
	"slices"
	"strings"
	"testing"

	"github.com/cohortline/cohortline/schemas"
)

func exampleEvent() *schemas.Event {
	return &schemas.Event{
		TS:       1714557600000,
		Country:  schemas.Country{'B', 'R'},
		Lang:     schemas.Lang{'p', 't'},
		Age:      schemas.Age25to34,
		Platform: schemas.PlatformAndroid,
	}
}

func TestKeyOfString(t *testing.T) {
	tests := []struct {
		spec string
		want string
	}{
		{"{}", "country=BR|lang=pt|age=25-34|platform=android"},
		{"dimensions: [platform, age, lang, country]", "platform=android|age=25-34|lang=pt|country=BR"},
		{"dimensions: [country, lang]", "country=BR|lang=pt"},
		{"dimensions: [age]", "age=25-34"},
	}
	for _, tt := range tests {
		k := KeyOf(mustParseSpec(t, tt.spec), exampleEvent())
		if got := k.String(); got != tt.want {
			t.Errorf("spec %s: String() = %q, want %q", tt.spec, got, tt.want)
		}
		if got := string(k.AppendString([]byte("key: "))); got != "key: "+tt.want {
			t.Errorf("spec %s: AppendString = %q", tt.spec, got)
		}
		if k.Level() != 0 {
			t.Errorf("spec %s: Level() = %v, want finest", tt.spec, k.Level())
		}
	}
}

// TestKeyOfSubsetIgnoresOtherFields checks that attributes outside the
// spec's dimensions do not split cohorts.
func TestKeyOfSubsetIgnoresOtherFields(t *testing.T) {
	s := mustParseSpec(t, "dimensions: [country, lang]")
	a, b := exampleEvent(), exampleEvent()
	b.Age, b.Platform = schemas.Age65Plus, schemas.PlatformWeb
	if KeyOf(s, a) != KeyOf(s, b) {
		t.Error("events differing only outside the dimensions got different keys")
	}
}

func TestKeyOfMinorPanics(t *testing.T) {
	e := exampleEvent()
	e.Age = schemas.AgeMinor
	for _, spec := range []string{"{}", "dimensions: [country]"} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.HasPrefix(r.(string), "BUG: ") {
					t.Errorf("spec %s: KeyOf of a minor's event: recovered %v, want a BUG panic", spec, r)
				}
			}()
			KeyOf(mustParseSpec(t, spec), e)
		}()
	}
}

// TestKeyRoundTrip covers every enum value in every generalization and a
// few dimension orders: ParseKey(String()) gives the key back and String
// of the parsed key is the input.
func TestKeyRoundTrip(t *testing.T) {
	specs := []string{"{}", "dimensions: [platform, country, age, lang]", "dimensions: [lang, age]"}
	countries := []schemas.Country{{'B', 'R'}, {'U', 'S'}, {'A', 'A'}, {'Z', 'Z'}}
	langs := []schemas.Lang{{'p', 't'}, {'e', 'n'}, {'a', 'a'}, {'z', 'z'}}
	n := 0
	for _, spec := range specs {
		s := mustParseSpec(t, spec)
		seen := map[Key]string{}
		for _, c := range countries {
			for _, l := range langs {
				for a := range schemas.AgeBand(schemas.NumAgeBands) {
					if a == schemas.AgeMinor {
						continue
					}
					for p := range schemas.Platform(schemas.NumPlatforms) {
						e := &schemas.Event{Country: c, Lang: l, Age: a, Platform: p}
						for sub := range 1 << len(s.Dimensions) {
							k := KeyOf(s, e)
							for i, d := range s.Dimensions {
								if sub&(1<<i) != 0 {
									k = k.Generalize(d)
								}
							}
							str := k.String()
							got, err := ParseKey(s, str)
							if err != nil {
								t.Fatalf("spec %s: %v", spec, err)
							}
							if got != k || got.String() != str {
								t.Fatalf("spec %s: ParseKey(%q) = %v, want %v", spec, str, got, k)
							}
							if prev, ok := seen[k]; ok && prev != str {
								t.Fatalf("spec %s: one Key for %q and %q", spec, prev, str)
							}
							seen[k] = str
							n++
						}
					}
				}
			}
		}
		// Distinct strings ⇔ distinct keys.
		strs := map[string]bool{}
		for _, str := range seen {
			strs[str] = true
		}
		if len(strs) != len(seen) {
			t.Errorf("spec %s: %d keys but %d strings", spec, len(seen), len(strs))
		}
	}
	t.Logf("%d round trips", n)
}

func TestParseKeyErrors(t *testing.T) {
	tests := []struct {
		spec, key, want string
	}{
		{"{}", "", `parsing cohort key "": has 1 parts, want 4 (country|lang|age|platform)`},
		{"{}", "country=BR|lang=pt|age=25-34", `parsing cohort key "country=BR|lang=pt|age=25-34": has 3 parts, want 4 (country|lang|age|platform)`},
		{"{}", "country=BR|lang=pt|age=25-34|platform=android|", `parsing cohort key "country=BR|lang=pt|age=25-34|platform=android|": has 5 parts, want 4 (country|lang|age|platform)`},
		{"{}", "lang=pt|country=BR|age=25-34|platform=android", `parsing cohort key "lang=pt|country=BR|age=25-34|platform=android": part 1 is "lang", want "country"`},
		{"{}", "country=BR|lang|age=25-34|platform=android", `parsing cohort key "country=BR|lang|age=25-34|platform=android": part 2, "lang", is not name=value`},
		{"{}", "country=br|lang=pt|age=25-34|platform=android", `parsing cohort key "country=br|lang=pt|age=25-34|platform=android": country "br": want 2 upper-case letters (ISO 3166-1 alpha-2) or "*"`},
		{"{}", "country=BRA|lang=pt|age=*|platform=*", `parsing cohort key "country=BRA|lang=pt|age=*|platform=*": country "BRA": want 2 upper-case letters (ISO 3166-1 alpha-2) or "*"`},
		{"{}", "country=BR|lang=PT|age=*|platform=*", `parsing cohort key "country=BR|lang=PT|age=*|platform=*": lang "PT": want 2 lower-case letters (ISO 639-1) or "*"`},
		{"{}", "country=BR|lang=pt|age=|platform=*", `parsing cohort key "country=BR|lang=pt|age=|platform=*": age "": want one of 18-24, 25-34, 35-44, 45-54, 55-64, 65+, unknown or "*"`},
		{"{}", "country=BR|lang=pt|age=13-17|platform=*", `parsing cohort key "country=BR|lang=pt|age=13-17|platform=*": age "13-17": minors are never a cohort`},
		{"{}", "country=BR|lang=pt|age=*|platform=Android", `parsing cohort key "country=BR|lang=pt|age=*|platform=Android": platform "Android": want one of android, ios, web, desktop or "*"`},
		{"{}", "country=BR|lang=pt|age=*|platform= *", `parsing cohort key "country=BR|lang=pt|age=*|platform= *": platform " *": want one of android, ios, web, desktop or "*"`},
		{"dimensions: [lang, age]", "country=BR|lang=pt", `parsing cohort key "country=BR|lang=pt": part 1 is "country", want "lang"`},
	}
	for _, tt := range tests {
		_, err := ParseKey(mustParseSpec(t, tt.spec), tt.key)
		if err == nil || err.Error() != tt.want {
			t.Errorf("ParseKey(%q)\n got %v\nwant %s", tt.key, err, tt.want)
		}
	}
}

func TestGeneralize(t *testing.T) {
	s := DefaultSpec()
	a, b := exampleEvent(), exampleEvent()
	b.Age = schemas.Age45to54
	ka, kb := KeyOf(s, a), KeyOf(s, b)
	if ka == kb {
		t.Fatal("different ages, same key")
	}
	if ka.Generalize(DimAge) != kb.Generalize(DimAge) {
		t.Error("generalizing the only differing dimension did not give equal keys")
	}
	if g := ka.Generalize(DimAge); g.Generalize(DimAge) != g {
		t.Error("Generalize is not idempotent")
	}
	sub := mustParseSpec(t, "dimensions: [country, lang]")
	if k := KeyOf(sub, a); k.Generalize(DimAge) != k || k.Generalize("region") != k {
		t.Error("generalizing a dimension the key lacks changed it")
	}
}

func TestAncestors(t *testing.T) {
	s := DefaultSpec()
	k := KeyOf(s, exampleEvent())
	want := []struct{ key, level string }{
		{"country=BR|lang=pt|age=25-34|platform=android", ""},
		{"country=BR|lang=pt|age=25-34|platform=*", "platform"},
		{"country=BR|lang=pt|age=*|platform=*", "age,platform"},
		{"country=BR|lang=*|age=*|platform=*", "lang,age,platform"},
		{"country=*|lang=*|age=*|platform=*", "country,lang,age,platform"},
	}
	var got []string
	for i, a := range s.Ancestors(k) {
		got = append(got, a.String())
		if i >= len(want) {
			t.Fatalf("level %d beyond the top", i)
		}
		if a.Level().String() != want[i].level {
			t.Errorf("level %d: Level() = %q, want %q", i, a.Level(), want[i].level)
		}
		if a != s.Ancestor(k, i) {
			t.Errorf("level %d: Ancestors and Ancestor differ", i)
		}
		if l, ok := s.ChainLevel(a); !ok || l != i {
			t.Errorf("ChainLevel(%s) = %d, %v, want %d", a, l, ok, i)
		}
	}
	if !slices.Equal(got, []string{want[0].key, want[1].key, want[2].key, want[3].key, want[4].key}) {
		t.Errorf("chain\n%s", strings.Join(got, "\n"))
	}
	if s.Ancestor(k, -1) != k || s.Ancestor(k, 99) != s.Ancestor(k, 4) {
		t.Error("Ancestor does not clamp its level")
	}
	if _, ok := s.ChainLevel(k.Generalize(DimCountry)); ok {
		t.Error("country-only generalization reported on the chain")
	}
	if !s.Ancestor(k, 2).Level().Has(DimAge) || s.Ancestor(k, 2).Level().Has(DimLang) {
		t.Error("Level.Has")
	}

	// The chain follows generalize, not the key order.
	s2 := mustParseSpec(t, "dimensions: [platform, age]\ngeneralize: [platform, age]")
	got = got[:0]
	for _, a := range s2.Ancestors(KeyOf(s2, exampleEvent())) {
		got = append(got, a.String()+" "+a.Level().String())
	}
	if w := []string{"platform=android|age=25-34 ", "platform=*|age=25-34 platform", "platform=*|age=* age,platform"}; !slices.Equal(got, w) {
		t.Errorf("chain %q, want %q", got, w)
	}
}

func TestKeyNoAlloc(t *testing.T) {
	s := DefaultSpec()
	e := exampleEvent()
	buf := make([]byte, 0, maxKeyLen)
	var k Key
	var id uint64
	if n := testing.AllocsPerRun(100, func() { k = KeyOf(s, e) }); n != 0 {
		t.Errorf("KeyOf: %v allocs", n)
	}
	if n := testing.AllocsPerRun(100, func() { buf = k.AppendString(buf[:0]) }); n != 0 {
		t.Errorf("AppendString: %v allocs", n)
	}
	if n := testing.AllocsPerRun(100, func() { id = KeyOf(s, e).ID() }); n != 0 {
		t.Errorf("KeyOf+ID: %v allocs", n)
	}
	_ = id
}

func FuzzParseKey(f *testing.F) {
	f.Add("country=BR|lang=pt|age=25-34|platform=android")
	f.Add("country=*|lang=*|age=*|platform=*")
	f.Add("country=BR|lang=pt|age=13-17|platform=web")
	f.Add("country=B|lang=pt|age=25-34|platform=android||")
	s := DefaultSpec()
	f.Fuzz(func(t *testing.T, str string) {
		k, err := ParseKey(s, str)
		if err != nil {
			return
		}
		if got := k.String(); got != str {
			t.Fatalf("ParseKey(%q).String() = %q: accepted a non-canonical key", str, got)
		}
		if !k.Level().Has(DimAge) && k.field(idxAge) == uint64(schemas.AgeMinor) {
			t.Fatalf("ParseKey(%q) gave a minors' cohort", str)
		}
	})
}
