package schemas

import (
	"regexp"
	"testing"
)

var snakeCase = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)

func TestTaxonomy(t *testing.T) {
	seen := map[string]bool{}
	cats := Categories()
	if len(cats) != NumCategories || NumCategories == 0 {
		t.Fatalf("Categories() has %d entries, NumCategories = %d", len(cats), NumCategories)
	}
	for _, c := range cats {
		info := c.Info()
		if !snakeCase.MatchString(info.Slug) {
			t.Errorf("slug %q is not lower snake case", info.Slug)
		}
		if len(info.Slug) > 64 {
			t.Errorf("slug %q is too long for a label", info.Slug)
		}
		if seen[info.Slug] {
			t.Errorf("slug %q is not unique", info.Slug)
		}
		seen[info.Slug] = true
		if info.Title == "" {
			t.Errorf("slug %q has no title", info.Slug)
		}
		if got, ok := ParseCategory([]byte(info.Slug)); !ok || got != c {
			t.Errorf("ParseCategory(%q) = %v, %v", info.Slug, got, ok)
		}
		if c.String() != info.Slug || c.Sensitive() != info.Sensitive {
			t.Errorf("category %d: String/Sensitive disagree with Info", c)
		}
	}
	for _, slug := range []string{"health", "religion", "politics", "sexuality"} {
		c, ok := ParseCategory([]byte(slug))
		if !ok || !c.Sensitive() {
			t.Errorf("%q must be a sensitive category", slug)
		}
	}
	if CategoryNone.String() != "" || CategoryNone.Sensitive() || Category(NumCategories+1).String() != "" {
		t.Error("CategoryNone and out-of-range codes must have an empty Info")
	}
	if _, ok := ParseCategory(nil); ok {
		t.Error(`ParseCategory("") = true`)
	}
}

// TestEnumWords checks the word tables the decoder matches short values
// with against the names.
func TestEnumWords(t *testing.T) {
	var e Event
	check := func(f field, names []string, got func() int) {
		for i, n := range names {
			if len(n) > 8 {
				continue
			}
			w := enumWords([]string{n})[0]
			if !setWord(f, w, len(n), &e) || got() != i {
				t.Errorf("%s %q: setWord gives %d", fieldNames[f], n, got())
			}
		}
	}
	check(fieldKind, kindNames[:], func() int { return int(e.Kind) })
	check(fieldPeer, peerNames[:], func() int { return int(e.Peer) })
	check(fieldMedia, mediaNames[:], func() int { return int(e.Media) })
	check(fieldAge, ageNames[:], func() int { return int(e.Age) })
	check(fieldPlatform, platformNames[:], func() int { return int(e.Platform) })
	check(fieldCategory, categorySlugs(), func() int { return int(e.Category) - 1 })
	for f, name := range fieldNames {
		w := enumWords([]string{name})[0]
		if fieldOfWord(w) != field(f) || lookupField([]byte(name)) != field(f) || fieldByName(name) != field(f) {
			t.Errorf("field %q is not found", name)
		}
	}
	for _, k := range []string{"", "V", "ids", "tss", "users", "kinds", "cat", "platforms", "countr", "\x00"} {
		w := enumWords([]string{k})[0]
		if len(k) <= 8 && fieldOfWord(w) != noField || lookupField([]byte(k)) != noField {
			t.Errorf("key %q matched a field", k)
		}
	}
}
