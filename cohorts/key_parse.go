package cohorts

import (
	"errors"
	"fmt"
	"strings"

	"github.com/cohortline/cohortline/schemas"
)

// ParseKey parses a canonical key string under s, strictly: exactly the
// spec's dimensions in its order, each "name=value" or "name=*", values as
// the event contract spells them. Only canonical strings are accepted, so
// ParseKey(s, str).String() == str. An age of 13-17 is refused: minors are
// never a cohort.
func ParseKey(s Spec, str string) (Key, error) {
	k, err := parseKey(s, str)
	if err != nil {
		return Key{}, fmt.Errorf("parsing cohort key %q: %w", str, err)
	}
	return k, nil
}

func parseKey(s Spec, str string) (Key, error) {
	shape, _ := s.shape()
	k := Key{bits: shape}
	n := k.count()
	if n == 0 {
		return Key{}, errors.New("the cohort spec has no dimensions")
	}
	if parts := strings.Count(str, "|") + 1; parts != n {
		return Key{}, fmt.Errorf("has %d parts, want %d (%s)", parts, n, joinDims(s.Dimensions, "|"))
	}
	rest := str
	for pos := range n {
		var part string
		part, rest, _ = strings.Cut(rest, "|")
		name, value, ok := strings.Cut(part, "=")
		if !ok {
			return Key{}, fmt.Errorf("part %d, %q, is not name=value", pos+1, part)
		}
		i := k.dimAt(pos)
		if name != string(knownDims[i]) {
			return Key{}, fmt.Errorf("part %d is %q, want %q", pos+1, name, knownDims[i])
		}
		if value == "*" {
			k.bits |= 1 << (levelShift + i)
			continue
		}
		v, err := parseValue(i, value)
		if err != nil {
			return Key{}, err
		}
		k.bits |= v << fieldShift[i]
	}
	return k, nil
}

// parseValue returns the packed value of dimension knownDims[i].
func parseValue(i int, value string) (uint64, error) {
	switch i {
	case idxCountry:
		if !isLetters(value, 'A', 'Z') {
			return 0, fmt.Errorf("country %q: want 2 upper-case letters (ISO 3166-1 alpha-2) or \"*\"", value)
		}
		return uint64(value[0]) | uint64(value[1])<<8, nil
	case idxLang:
		if !isLetters(value, 'a', 'z') {
			return 0, fmt.Errorf("lang %q: want 2 lower-case letters (ISO 639-1) or \"*\"", value)
		}
		return uint64(value[0]) | uint64(value[1])<<8, nil
	case idxAge:
		a, ok := schemas.ParseAgeBand([]byte(value))
		if !ok {
			return 0, fmt.Errorf("age %q: want one of %s or \"*\"", value, cohortAges())
		}
		if a == schemas.AgeMinor {
			return 0, fmt.Errorf("age %q: minors are never a cohort", value)
		}
		return uint64(a), nil
	default:
		p, ok := schemas.ParsePlatform([]byte(value))
		if !ok {
			return 0, fmt.Errorf("platform %q: want one of %s or \"*\"", value, allPlatforms())
		}
		return uint64(p), nil
	}
}

func isLetters(s string, lo, hi byte) bool {
	return len(s) == 2 && lo <= s[0] && s[0] <= hi && lo <= s[1] && s[1] <= hi
}

// cohortAges lists the age bands a cohort can have (all but minors).
func cohortAges() string {
	var ss []string
	for a := range schemas.AgeBand(schemas.NumAgeBands) {
		if a != schemas.AgeMinor {
			ss = append(ss, a.String())
		}
	}
	return strings.Join(ss, ", ")
}

func allPlatforms() string {
	var ss []string
	for p := range schemas.Platform(schemas.NumPlatforms) {
		ss = append(ss, p.String())
	}
	return strings.Join(ss, ", ")
}
