package cohorts

import (
	"fmt"
	"slices"

	"github.com/cohortline/cohortline/schemas"
)

// KeyFromAttributes returns the finest cohort under s of someone with the
// given attributes, dimension → value as the event contract spells it:
// {"country": "BR", "lang": "pt", "age": "25-34", "platform": "android"}.
// It is how a targeter's own user maps to a cohort (cohortline lookup).
//
// Every dimension of s needs a value and no other may have one, so that an
// attribute is never silently ignored. Values are checked as the event
// decoder checks them: assigned ISO 3166-1 alpha-2 (upper case) and ISO
// 639-1 (lower case) codes, and the enumerated age bands and platforms.
// "*" is refused (Spec.Ancestors generalizes), and so is age 13-17:
// minors are never a cohort. Errors name the dimension and the value.
func KeyFromAttributes(s Spec, attrs map[Dimension]string) (Key, error) {
	if err := s.Validate(); err != nil {
		return Key{}, err
	}
	shape, _ := s.shape()
	k := Key{bits: shape}
	extra := make([]Dimension, 0, len(attrs))
	for d := range attrs {
		extra = append(extra, d)
	}
	slices.Sort(extra) // the first error is the same on every run
	for _, d := range extra {
		i, ok := d.index()
		switch {
		case !ok:
			return Key{}, fmt.Errorf("%q is not a cohort dimension (known: %s)", d, joinDims(knownDims[:], ", "))
		case !k.has(i):
			return Key{}, fmt.Errorf("%s is not a dimension of the cohort spec (its dimensions: %s)", d, joinDims(s.Dimensions, ", "))
		}
	}
	for _, d := range s.Dimensions {
		value, ok := attrs[d]
		if !ok || value == "" {
			return Key{}, fmt.Errorf("%s is missing: the cohort spec's dimensions are %s, and each needs a value", d, joinDims(s.Dimensions, ", "))
		}
		i, _ := d.index()
		v, err := attributeValue(i, value)
		if err != nil {
			return Key{}, err
		}
		k.bits |= v << fieldShift[i]
	}
	return k, nil
}

// attributeValue returns the packed value of dimension knownDims[i] for
// a person's attribute: ParseKey's rules without "*", and with the ISO
// code lists.
func attributeValue(i int, value string) (uint64, error) {
	if value == "*" {
		return 0, fmt.Errorf("%s %q: give the person's value; the generalized cohorts come from the spec's generalize order", knownDims[i], value)
	}
	switch i {
	case idxCountry:
		if !isLetters(value, 'A', 'Z') || !(schemas.Country{value[0], value[1]}).Valid() {
			return 0, fmt.Errorf("country %q: want an assigned ISO 3166-1 alpha-2 code in upper case, like BR", value)
		}
	case idxLang:
		if !isLetters(value, 'a', 'z') || !(schemas.Lang{value[0], value[1]}).Valid() {
			return 0, fmt.Errorf("lang %q: want an ISO 639-1 code in lower case, like pt", value)
		}
	case idxAge:
		if a, ok := schemas.ParseAgeBand([]byte(value)); !ok || a == schemas.AgeMinor {
			return 0, fmt.Errorf("age %q: want one of %s (minors, 13-17, are never a cohort)", value, cohortAges())
		}
	default:
		if _, ok := schemas.ParsePlatform([]byte(value)); !ok {
			return 0, fmt.Errorf("platform %q: want one of %s", value, allPlatforms())
		}
	}
	return parseValue(i, value)
}
