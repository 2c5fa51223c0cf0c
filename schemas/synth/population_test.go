package synth

import (
	"testing"

	"github.com/cohortline/cohortline/schemas"
)

func TestTokens(t *testing.T) {
	cfg := DefaultConfig()
	pop := newPopulation(&cfg)
	seen := make(map[string]bool, len(pop.users))
	for i := range pop.users {
		tok := pop.token(i)
		if len(tok) < minTokenLen || len(tok) > maxTokenLen {
			t.Fatalf("user %d: token %q has %d chars, want 22..32", i, tok, len(tok))
		}
		letters, digitRun := 0, 0
		for _, c := range tok {
			switch {
			case c >= '0' && c <= '9':
				digitRun++
				if digitRun > maxDigitRun {
					t.Fatalf("user %d: token %q has a long digit run", i, tok)
				}
				continue
			case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
				letters++
			case c == '-' || c == '_':
			default:
				t.Fatalf("user %d: token %q has %q", i, tok, c)
			}
			digitRun = 0
		}
		if letters == 0 || schemas.LooksLikePII(tok) {
			t.Fatalf("user %d: token %q could pass for PII", i, tok)
		}
		if seen[string(tok)] {
			t.Fatalf("user %d: token %q given twice", i, tok)
		}
		seen[string(tok)] = true
	}
	// A token depends on the seed and the user only.
	other := cfg
	other.Users, other.CountrySkew = 10, 0
	if p2 := newPopulation(&other); string(p2.token(7)) != string(pop.token(7)) {
		t.Errorf("user 7's token changed with the population settings")
	}
	other.Seed++
	if p3 := newPopulation(&other); string(p3.token(7)) == string(pop.token(7)) {
		t.Errorf("user 7 has the same token under seeds 1 and 2")
	}
}

// A user keeps country and age; only drifting users change platform and
// language, between two fixed values, and a drifting minor's age between
// 13-17 and unknown.
func TestUserAttributesFixed(t *testing.T) {
	cfg := testConfig(200000)
	cfg.DriftShare = 0.1
	recs, _ := generate(t, cfg)
	type attrs struct {
		country  schemas.Country
		age      schemas.AgeBand
		langs    map[schemas.Lang]bool
		platform map[schemas.Platform]bool
	}
	users := map[int]*attrs{}
	pop := newPopulation(&cfg)
	for i, r := range recs {
		if r.Kind == RecordBad {
			continue
		}
		a := users[r.User]
		if a == nil {
			a = &attrs{r.ev.Country, r.ev.Age, map[schemas.Lang]bool{}, map[schemas.Platform]bool{}}
			users[r.User] = a
		}
		age := r.ev.Age
		if pu := pop.users[r.User]; age == schemas.AgeUnknown && pu.age == schemas.AgeMinor && pu.drifts {
			age = schemas.AgeMinor // the drifting minor's other device
		}
		if a.age == schemas.AgeUnknown && age == schemas.AgeMinor {
			a.age = schemas.AgeMinor // the first record came from the other device
		}
		if a.country != r.ev.Country || a.age != age {
			t.Fatalf("record %d: user %d changed country or age", i, r.User)
		}
		a.langs[r.ev.Lang] = true
		a.platform[r.ev.Platform] = true
	}
	changed := 0
	for u, a := range users {
		if len(a.langs) > 2 || len(a.platform) > 2 {
			t.Fatalf("user %d used %d languages and %d platforms", u, len(a.langs), len(a.platform))
		}
		if len(a.platform) == 2 || len(a.langs) == 2 {
			changed++
			if !pop.users[u].drifts {
				t.Fatalf("user %d changed attributes but does not drift", u)
			}
		}
	}
	if changed == 0 {
		t.Error("no user changed platform or language")
	}
}

// Languages come from the user's country.
func TestLanguagesMatchCountry(t *testing.T) {
	cfg := DefaultConfig()
	cfg.DriftShare = 0
	pop := newPopulation(&cfg)
	allowed := map[schemas.Country]map[schemas.Lang]bool{}
	for _, c := range countries {
		m := map[schemas.Lang]bool{}
		for _, l := range c.langs {
			m[schemas.Lang{l.lang[0], l.lang[1]}] = true
		}
		allowed[schemas.Country{c.code[0], c.code[1]}] = m
	}
	for i, u := range pop.users {
		if !allowed[u.country][u.lang] {
			t.Fatalf("user %d: lang %s in country %s", i, u.lang, u.country)
		}
	}
	if b := (schemas.Country{'B', 'R'}); allowed[b] == nil {
		t.Fatal("BR missing from the country table")
	}
}

func TestCountrySkew(t *testing.T) {
	cfg := DefaultConfig()
	pop := newPopulation(&cfg)
	count := map[schemas.Country]int{}
	for _, u := range pop.users {
		count[u.country]++
	}
	if len(count) < 30 {
		t.Errorf("users come from %d countries, want at least 30", len(count))
	}
	top := schemas.Country{countries[0].code[0], countries[0].code[1]}
	for c, n := range count {
		if c != top && n >= count[top] {
			t.Errorf("country %s has %d users, top-ranked %s only %d", c, n, top, count[top])
		}
	}
	// Zipf with exponent 1 over 40 ranks: the top one has 1/H(40) ≈ 23%.
	if share := float64(count[top]) / float64(len(pop.users)); !within(share, 0.234, 0.05) {
		t.Errorf("top country share %.3f, want ≈ 0.234", share)
	}
	cfg.CountrySkew = 0
	flat := newPopulation(&cfg)
	n := 0
	for _, u := range flat.users {
		if u.country == top {
			n++
		}
	}
	if share := float64(n) / float64(len(flat.users)); !within(share, 1.0/float64(len(countries)), 0.1) {
		t.Errorf("skew 0: top country share %.3f, want uniform %.3f", share, 1.0/float64(len(countries)))
	}
}

func TestActivitySkew(t *testing.T) {
	cfg := testConfig(200000)
	recs, _ := generate(t, cfg)
	perUser := map[int]int{}
	for _, r := range recs {
		if r.Kind == RecordEvent {
			perUser[r.User]++
		}
	}
	if perUser[0] <= perUser[cfg.Users/2] || perUser[0] < 100 {
		t.Errorf("rank-0 user has %d events, median-rank user %d: want a heavy head", perUser[0], perUser[cfg.Users/2])
	}
	ones := 0
	for _, n := range perUser {
		if n == 1 {
			ones++
		}
	}
	if ones == 0 {
		t.Error("no user with exactly one event: the activity histogram needs all buckets")
	}
}
