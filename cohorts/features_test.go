package cohorts

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/cohortline/cohortline/schemas"
)

const goldenFeatures = "testdata/feature_set_v1.golden"

// TestFeatureSetGolden pins the slot layout of feature set v1: published
// vectors are read by index, so a slot's index, name, kind and unit never
// change. With -update, new slots are appended to the file and
// descriptions refreshed; a removed, renamed or reordered slot fails even
// then.
func TestFeatureSetGolden(t *testing.T) {
	fs := FeatureSetV1()
	golden, err := readGoldenFeatures()
	if err != nil && !(*update && os.IsNotExist(err)) {
		t.Fatal(err)
	}
	if err := appendOnly(golden, fs); err != nil {
		t.Fatal(err)
	}
	for _, g := range golden {
		if f := fs[g.Index]; f.Description != g.Description && !*update {
			t.Errorf("%s:%d: description of %s changed: run go test ./cohorts/ -run TestFeatureSetGolden -update", goldenFeatures, g.line, f.Name)
		}
	}
	if len(fs) > len(golden) {
		if !*update {
			t.Errorf("%s pins %d slots, feature set v1 has %d: run go test ./cohorts/ -run TestFeatureSetGolden -update", goldenFeatures, len(golden), len(fs))
			return
		}
	}
	if *update {
		writeGoldenFeatures(t, fs)
	}
}

// appendOnly checks that fs keeps every pinned slot where it was, with
// its name, kind and unit.
func appendOnly(golden []goldenFeature, fs []Feature) error {
	for i, g := range golden {
		if i >= len(fs) {
			return fmt.Errorf("%s:%d: slot %d (%s) was removed: feature set v1 is append-only", goldenFeatures, g.line, g.Index, g.Name)
		}
		f := fs[i]
		if f.Index != g.Index || f.Name != g.Name || f.Kind.String() != g.kind || f.Unit != g.Unit {
			return fmt.Errorf("%s:%d: slot %d is %d %s %s %s, pinned as %d %s %s %s: feature set v1 is append-only (new slots go at the end; a change needs feature set v2)",
				goldenFeatures, g.line, i, f.Index, f.Name, f.Kind, f.Unit, g.Index, g.Name, g.kind, g.Unit)
		}
	}
	return nil
}

// TestAppendOnly: what -update accepts and what it refuses.
func TestAppendOnly(t *testing.T) {
	fs := FeatureSetV1()
	pinned := make([]goldenFeature, len(fs))
	for i, f := range fs {
		pinned[i] = goldenFeature{Feature: f, kind: f.Kind.String(), line: i + 3}
	}
	appended := append(FeatureSetV1(), Feature{Index: len(fs), Name: "sum.new", Unit: "events", Kind: FeatureSum})
	swapped := FeatureSetV1()
	swapped[0].Name, swapped[1].Name = swapped[1].Name, swapped[0].Name
	unit := FeatureSetV1()
	unit[5].Unit = "seconds"
	for _, tt := range []struct {
		name string
		fs   []Feature
		ok   bool
	}{
		{"same", fs, true},
		{"appended", appended, true},
		{"reordered", swapped, false},
		{"removed", fs[:len(fs)-1], false},
		{"unit changed", unit, false},
	} {
		if err := appendOnly(pinned, tt.fs); (err == nil) != tt.ok {
			t.Errorf("%s: appendOnly = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
}

type goldenFeature struct {
	Feature
	kind string
	line int
}

// readGoldenFeatures reads lines of index, name, kind, unit, description
// separated by tabs; "#" starts a comment line.
func readGoldenFeatures() ([]goldenFeature, error) {
	data, err := os.ReadFile(goldenFeatures)
	if err != nil {
		return nil, err
	}
	var out []goldenFeature
	sc := bufio.NewScanner(bytes.NewReader(data))
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		f := strings.Split(text, "\t")
		if len(f) != 5 {
			return nil, fmt.Errorf("%s:%d: want 5 tab-separated fields, got %q", goldenFeatures, line, text)
		}
		idx, err := strconv.Atoi(f[0])
		if err != nil {
			return nil, fmt.Errorf("%s:%d: index %q: %v", goldenFeatures, line, f[0], err)
		}
		out = append(out, goldenFeature{
			Feature: Feature{Index: idx, Name: f[1], Unit: f[3], Description: f[4]},
			kind:    f[2], line: line,
		})
	}
	return out, sc.Err()
}

func writeGoldenFeatures(t *testing.T, fs []Feature) {
	t.Helper()
	var b strings.Builder
	b.WriteString("# Feature set v1: index<TAB>name<TAB>kind<TAB>unit<TAB>description.\n")
	b.WriteString("# Append-only: go test ./cohorts/ -run TestFeatureSetGolden -update adds slots, never moves one.\n")
	for _, f := range fs {
		fmt.Fprintf(&b, "%d\t%s\t%s\t%s\t%s\n", f.Index, f.Name, f.Kind, f.Unit, f.Description)
	}
	if err := os.WriteFile(goldenFeatures, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestFeatureSetShape(t *testing.T) {
	fs := FeatureSetV1()
	if len(fs) != NumFeaturesV1() {
		t.Fatalf("len(FeatureSetV1()) = %d, NumFeaturesV1() = %d", len(fs), NumFeaturesV1())
	}
	names := map[string]bool{}
	var reach, sums []string
	for i, f := range fs {
		if f.Index != i {
			t.Errorf("slot %d has Index %d", i, f.Index)
		}
		if names[f.Name] {
			t.Errorf("name %s used twice", f.Name)
		}
		names[f.Name] = true
		if f.Description == "" || f.Unit == "" || f.Kind.String() == "invalid" {
			t.Errorf("slot %d (%s) lacks a description, unit or kind", i, f.Name)
		}
		switch {
		case strings.HasPrefix(f.Name, "reach."):
			reach = append(reach, strings.TrimPrefix(f.Name, "reach."))
		case strings.HasPrefix(f.Name, "sum.") && f.Name != "sum.call_seconds":
			sums = append(sums, strings.TrimPrefix(f.Name, "sum."))
		}
	}
	// Reach slot i and sum slot R+i are the same dimension.
	if strings.Join(reach, ",") != strings.Join(sums, ",") {
		t.Errorf("reach and sum dimensions differ:\n%v\n%v", reach, sums)
	}
	for _, want := range []string{"reach.kind.message_sent", "sum.kind.call", "reach.category.retail_fashion",
		"reach.peer.business", "sum.media.voice", "hist.events.1", "hist.events.2_5", "hist.events.101_plus", "sum.call_seconds"} {
		if !names[want] {
			t.Errorf("no slot %s", want)
		}
	}
}

// TestNoSensitiveSlot: a sensitive category has no slot, by name or
// otherwise (privacy: such events feed no feature).
func TestNoSensitiveSlot(t *testing.T) {
	for _, c := range schemas.Categories() {
		if !c.Sensitive() {
			continue
		}
		for _, f := range FeatureSetV1() {
			if strings.Contains(f.Name, c.String()) {
				t.Errorf("slot %d (%s) names sensitive category %s", f.Index, f.Name, c)
			}
		}
		if v1.catBit[c] != 0 {
			t.Errorf("sensitive category %s has a reach bit", c)
		}
	}
}

// TestFeatureSetCoversTaxonomy fails when the taxonomy gains a
// non-sensitive category that feature set v1 has no slot for: appending
// its slots (at the end, never in the category block) or starting feature
// set v2 is a decision for a person, not a side effect.
func TestFeatureSetCoversTaxonomy(t *testing.T) {
	names := map[string]bool{}
	for _, f := range FeatureSetV1() {
		names[f.Name] = true
	}
	for _, c := range schemas.Categories() {
		if !c.Sensitive() && !names["reach.category."+c.String()] {
			t.Errorf("category %s (code %d) has no slot in feature set v1: append its slots or start feature set v2", c, c)
		}
	}
}

func TestMaxPerUser(t *testing.T) {
	s := DefaultSpec()
	s.Bounds = Bounds{Events: 7, CallSeconds: 90}
	big := DefaultSpec()
	big.Bounds = Bounds{Events: 1 << 20, CallSeconds: 1 << 40}
	for _, f := range FeatureSetV1() {
		want, wantBig := uint64(1), uint64(1)
		switch {
		case f.Name == "sum.call_seconds":
			want, wantBig = 90, 1<<32-1
		case f.Kind == FeatureSum:
			want, wantBig = 7, MaxEventsBound
		}
		if got := f.MaxPerUser(s); got != want {
			t.Errorf("%s: MaxPerUser = %d, want %d", f.Name, got, want)
		}
		if got := f.MaxPerUser(big); got != wantBig {
			t.Errorf("%s: MaxPerUser(huge bounds) = %d, want %d", f.Name, got, wantBig)
		}
	}
}

// TestFeatureGroup: reach and event-sum slots carry the group that their
// name spells (the privacy budget splits by it); the histogram and call
// seconds have none.
func TestFeatureGroup(t *testing.T) {
	groups := map[string]int{}
	for _, f := range FeatureSetV1() {
		want := ""
		if parts := strings.Split(f.Name, "."); len(parts) == 3 && f.Kind != FeatureHistogram {
			want = parts[1]
		}
		if f.Group != want {
			t.Errorf("%s: Group = %q, want %q", f.Name, f.Group, want)
		}
		if f.Kind == FeatureSum && f.Group != "" {
			groups[f.Group]++
		}
	}
	if want := map[string]int{"kind": schemas.NumKinds, "peer": schemas.NumPeers, "media": schemas.NumMedia}; groups["kind"] != want["kind"] || groups["peer"] != want["peer"] || groups["media"] != want["media"] || groups["category"] == 0 {
		t.Errorf("event-sum slots per group = %v, want %v and some categories", groups, want)
	}
}

func TestHistBucket(t *testing.T) {
	for _, tt := range []struct {
		n    uint32
		want string
	}{
		{1, "1"}, {2, "2_5"}, {5, "2_5"}, {6, "6_20"}, {20, "6_20"}, {21, "21_100"},
		{100, "21_100"}, {101, "101_plus"}, {MaxEventsBound, "101_plus"},
	} {
		if got := histNames[histBucket(tt.n)]; got != tt.want {
			t.Errorf("histBucket(%d) = %s, want %s", tt.n, got, tt.want)
		}
	}
}
