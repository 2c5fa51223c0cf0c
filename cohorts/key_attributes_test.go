package cohorts

import (
	"slices"
	"strings"
	"testing"

	"github.com/cohortline/cohortline/schemas"
)

func attrsOf(e *schemas.Event) map[Dimension]string {
	return map[Dimension]string{
		DimCountry: e.Country.String(), DimLang: e.Lang.String(),
		DimAge: e.Age.String(), DimPlatform: e.Platform.String(),
	}
}

// TestKeyFromAttributesIsKeyOf: a person's attributes give the cohort their
// events give, for every dimension order and subset, and every code.
func TestKeyFromAttributesIsKeyOf(t *testing.T) {
	specs := []string{"{}", "dimensions: [platform, age, lang, country]", "dimensions: [lang, age]", "dimensions: [country]"}
	var events []*schemas.Event
	for _, c := range schemas.Countries() {
		e := exampleEvent()
		e.Country = c
		events = append(events, e)
	}
	for _, l := range schemas.Langs() {
		e := exampleEvent()
		e.Lang = l
		events = append(events, e)
	}
	for a := range schemas.AgeBand(schemas.NumAgeBands) {
		if a != schemas.AgeMinor {
			e := exampleEvent()
			e.Age = a
			events = append(events, e)
		}
	}
	for p := range schemas.Platform(schemas.NumPlatforms) {
		e := exampleEvent()
		e.Platform = p
		events = append(events, e)
	}
	for _, spec := range specs {
		s := mustParseSpec(t, spec)
		for _, e := range events {
			attrs := attrsOf(e)
			for d := range attrs {
				if !slices.Contains(s.Dimensions, d) {
					delete(attrs, d)
				}
			}
			got, err := KeyFromAttributes(s, attrs)
			if want := KeyOf(s, e); err != nil || got != want {
				t.Fatalf("spec %s, %v: %v (%v), want %v", spec, attrs, got, err, want)
			}
		}
	}
	k, err := KeyFromAttributes(DefaultSpec(), attrsOf(exampleEvent()))
	if err != nil || k.String() != "country=BR|lang=pt|age=25-34|platform=android" || k.ID() != 4918191456130276520 || k.Level() != 0 {
		t.Errorf("default spec: %v %d %v", k, k.ID(), err)
	}
}

func TestKeyFromAttributesErrors(t *testing.T) {
	full := func(d Dimension, v string) map[Dimension]string {
		a := attrsOf(exampleEvent())
		a[d] = v
		return a
	}
	without := func(d Dimension) map[Dimension]string {
		a := attrsOf(exampleEvent())
		delete(a, d)
		return a
	}
	cases := []struct {
		name  string
		spec  string
		attrs map[Dimension]string
		want  string
	}{
		{"unknown dimension", "{}", full("gender", "x"), `"gender" is not a cohort dimension (known: country, lang, age, platform)`},
		{"not in spec", "dimensions: [country, lang]", attrsOf(exampleEvent()), "age is not a dimension of the cohort spec (its dimensions: country, lang)"},
		{"missing", "{}", without(DimLang), "lang is missing: the cohort spec's dimensions are country, lang, age, platform"},
		{"empty", "{}", full(DimAge, ""), "age is missing"},
		{"lower-case country", "{}", full(DimCountry, "br"), `country "br": want an assigned ISO 3166-1 alpha-2 code in upper case`},
		{"unassigned country", "{}", full(DimCountry, "XK"), `country "XK": want an assigned`},
		{"one-letter country", "{}", full(DimCountry, "B"), `country "B"`},
		{"upper-case lang", "{}", full(DimLang, "PT"), `lang "PT": want an ISO 639-1 code in lower case`},
		{"withdrawn lang", "{}", full(DimLang, "iw"), `lang "iw"`},
		{"minor", "{}", full(DimAge, "13-17"), `age "13-17": want one of 18-24, 25-34, 35-44, 45-54, 55-64, 65+, unknown (minors, 13-17, are never a cohort)`},
		{"bad age", "{}", full(DimAge, "30"), `age "30"`},
		{"bad platform", "{}", full(DimPlatform, "linux"), `platform "linux": want one of android, ios, web, desktop`},
		{"star", "{}", full(DimPlatform, "*"), `platform "*": give the person's value`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := mustParseSpec(t, c.spec)
			k, err := KeyFromAttributes(s, c.attrs)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("KeyFromAttributes(%v) = %v, %v; want an error containing %q", c.attrs, k, err, c.want)
			}
		})
	}
}

func TestKeyFromAttributesValidatesTheSpec(t *testing.T) {
	s := DefaultSpec()
	s.Generalize = s.Generalize[:2]
	if _, err := KeyFromAttributes(s, attrsOf(exampleEvent())); err == nil || !strings.Contains(err.Error(), "generalize") {
		t.Errorf("invalid spec: %v, want its error", err)
	}
}
