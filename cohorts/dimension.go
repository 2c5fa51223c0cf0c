package cohorts

import "strings"

// Dimension names one attribute of a cohort, as written in the spec and in
// canonical keys ("country=BR").
type Dimension string

// The known dimensions. Each maps to one enumerated field of schemas.Event.
const (
	DimCountry  Dimension = "country"  // schemas.Country, ISO 3166-1 alpha-2
	DimLang     Dimension = "lang"     // schemas.Lang, ISO 639-1
	DimAge      Dimension = "age"      // schemas.AgeBand
	DimPlatform Dimension = "platform" // schemas.Platform
)

const numDims = 4

// knownDims lists the known dimensions by index. The index is the
// dimension's bit in Level and the field it occupies in Key. Level values
// are published, so append, never reorder.
var knownDims = [numDims]Dimension{DimCountry, DimLang, DimAge, DimPlatform}

// Indexes into knownDims.
const (
	idxCountry = iota
	idxLang
	idxAge
	idxPlatform
)

// index returns d's position in knownDims. It runs once per dimension per
// event: the four names have distinct lengths, so the switch compiles to a
// length test and a single comparison.
func (d Dimension) index() (int, bool) {
	switch d {
	case DimCountry:
		return idxCountry, true
	case DimLang:
		return idxLang, true
	case DimAge:
		return idxAge, true
	case DimPlatform:
		return idxPlatform, true
	}
	return 0, false
}

// Level is the set of generalized ("*") dimensions of a key, one bit per
// known dimension: country 1, lang 2, age 4, platform 8. It is what the
// published `level` column describes. The zero Level is a finest cohort.
type Level uint8

// Has reports whether d is generalized.
func (l Level) Has(d Dimension) bool {
	i, ok := d.index()
	return ok && l&(1<<i) != 0
}

// String lists the generalized dimensions, comma-separated, always in the
// fixed order country, lang, age, platform (whatever the spec's order), so
// one set has one spelling forever: "age,platform". A finest cohort's Level
// is the empty string.
func (l Level) String() string {
	var b strings.Builder
	for i, d := range knownDims {
		if l&(1<<i) == 0 {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(string(d))
	}
	return b.String()
}

// joinDims spells a dimension list: "country, lang" for messages,
// "country,lang" in canonical forms.
func joinDims(ds []Dimension, sep string) string {
	ss := make([]string, len(ds))
	for i, d := range ds {
		ss[i] = string(d)
	}
	return strings.Join(ss, sep)
}
