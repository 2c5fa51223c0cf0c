package schemas

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
)

func TestISOCodeTables(t *testing.T) {
	cs, ls := Countries(), Langs()
	if len(cs) != 249 || len(ls) != 184 {
		t.Fatalf("%d countries, %d languages; want 249 and 184", len(cs), len(ls))
	}
	if !slices.IsSortedFunc(cs, func(a, b Country) int { return strings.Compare(a.String(), b.String()) }) {
		t.Error("country list is not sorted")
	}
	nc, nl := 0, 0
	for a := byte(0); a < 255; a++ {
		for b := byte(0); b < 255; b++ {
			c, l := Country{a, b}, Lang{a, b}
			if c.Valid() {
				nc++
				if !slices.Contains(cs, c) {
					t.Errorf("table accepts %q", c)
				}
			}
			if l.Valid() {
				nl++
				if !slices.Contains(ls, l) {
					t.Errorf("table accepts %q", l)
				}
			}
		}
	}
	if nc != len(cs) || nl != len(ls) {
		t.Errorf("tables accept %d countries and %d languages", nc, nl)
	}
	for _, c := range []string{"XK", "UK", "EU", "br", "Br", "ZZ", "AA"} {
		if (Country{c[0], c[1]}).Valid() {
			t.Errorf("country %q accepted", c)
		}
	}
	for _, l := range []string{"iw", "in", "ji", "jw", "mo", "sh", "EN", "En", "xx"} {
		if (Lang{l[0], l[1]}).Valid() {
			t.Errorf("language %q accepted", l)
		}
	}
}

// TestISOCodesMatchDebian compares the lists with Debian's iso-codes data, an
// independent copy of the standards. `make test` installs the package; on a
// workstation without it the test is skipped, in CI it fails.
func TestISOCodesMatchDebian(t *testing.T) {
	const dir = "/usr/share/iso-codes/json/"
	read := func(file, key string) []string {
		b, err := os.ReadFile(dir + file)
		if err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("iso-codes data missing (make test installs it: apt-get install iso-codes): %v", err)
			}
			t.Skipf("iso-codes not installed: %v", err)
		}
		var doc map[string][]map[string]string
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, entry := range doc[key] {
			if a2 := entry["alpha_2"]; a2 != "" {
				out = append(out, a2)
			}
		}
		slices.Sort(out)
		return slices.Compact(out)
	}
	if want := strings.Join(read("iso_3166-1.json", "3166-1"), " "); want != countryCodes {
		t.Errorf("countries differ from iso-codes:\n got %s\nwant %s", countryCodes, want)
	}
	if want := strings.Join(read("iso_639-2.json", "639-2"), " "); want != langCodes {
		t.Errorf("languages differ from iso-codes:\n got %s\nwant %s", langCodes, want)
	}
}
