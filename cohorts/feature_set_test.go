package cohorts

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/cohortline/cohortline/schemas"
)

func TestCategoryGroupsPartitionTheTaxonomy(t *testing.T) {
	seen := map[schemas.Category]string{}
	for _, g := range CategoryGroups() {
		for _, c := range g.Categories {
			if c.Sensitive() {
				t.Errorf("group %s holds sensitive category %s", g.Name, c)
			}
			if prev, ok := seen[c]; ok {
				t.Errorf("category %s is in groups %s and %s", c, prev, g.Name)
			}
			seen[c] = g.Name
		}
	}
	for _, c := range schemas.Categories()[:v1TaxonomyLen] {
		if _, ok := seen[c]; !ok && !c.Sensitive() {
			t.Errorf("category %s is in no group", c)
		}
	}
}

func TestFeatureSetV2(t *testing.T) {
	fs := MustFeatureSet(2)
	if fs.Len() != 45 {
		t.Errorf("feature set 2 has %d slots, want 45", fs.Len())
	}
	names := map[string]bool{}
	for i, f := range fs.Features {
		if f.Index != i || names[f.Name] || f.Description == "" || f.Unit == "" {
			t.Errorf("slot %d: %+v (index, duplicate name or empty text)", i, f)
		}
		names[f.Name] = true
		if strings.HasPrefix(f.Name, "sum.peer.") || strings.HasPrefix(f.Name, "sum.media.") || strings.HasPrefix(f.Name, "reach.category.") {
			t.Errorf("slot %s is a marginal feature set 2 drops", f.Name)
		}
	}
	// Project: a partial with every slot i holding i+1.
	src := make([]uint64, NumPartialValues())
	for i := range src {
		src[i] = uint64(i + 1)
	}
	dst := make([]uint64, fs.Len())
	if err := fs.Project(dst, src); err != nil {
		t.Fatal(err)
	}
	partial := PartialFeatures()
	at := func(name string) uint64 {
		for _, f := range partial {
			if f.Name == name {
				return src[f.Index]
			}
		}
		t.Fatalf("no partial slot %s", name)
		return 0
	}
	if got, want := dst[fs.Slot("sum.category_group.food")], at("sum.category.grocery")+at("sum.category.restaurants"); got != want {
		t.Errorf("sum.category_group.food = %d, want grocery + restaurants = %d", got, want)
	}
	for _, name := range []string{"reach.category_group.food", "reach.kind.call", "sum.kind.call", "hist.events.1", "sum.call_seconds"} {
		if got := dst[fs.Slot(name)]; got != at(name) {
			t.Errorf("%s = %d, want the partial's %d", name, got, at(name))
		}
	}
	// A layout-1 partial cannot publish feature set 2, and says why.
	if err := fs.Project(dst, src[:NumFeaturesV1()]); err == nil || !strings.Contains(err.Error(), "backfill") {
		t.Errorf("layout-1 partial: err = %v, want one that says to backfill", err)
	}
	// Feature set 1 reads both layouts, as its 92 slots.
	v1dst := make([]uint64, NumFeaturesV1())
	if err := MustFeatureSet(1).Project(v1dst, src[:NumFeaturesV1()]); err != nil || v1dst[91] != 92 {
		t.Errorf("feature set 1 of a layout-1 partial: %v, last slot %d", err, v1dst[91])
	}
	if _, err := FeatureSetOf(3); err == nil {
		t.Error("FeatureSetOf(3): no error")
	}
}

const goldenFeaturesV2 = "testdata/feature_set_v2.golden"

// TestFeatureSetV2Golden pins feature set 2, slot by slot, with the
// partial slots each adds up (the category groups' membership included):
// published vectors and the feature_dictionary depend on it, so a change
// is a new feature set, not an edit. -update rewrites the file.
func TestFeatureSetV2Golden(t *testing.T) {
	fs := MustFeatureSet(2)
	partial := PartialFeatures()
	var b strings.Builder
	b.WriteString("# Feature set 2: index<TAB>name<TAB>kind<TAB>unit<TAB>partial slots added up.\n")
	b.WriteString("# Fixed: changing any line is a new feature set (go test ./cohorts/ -run TestFeatureSetV2Golden -update).\n")
	for i, f := range fs.Features {
		var src []string
		for _, s := range fs.sources[i] {
			src = append(src, partial[s].Name)
		}
		fmt.Fprintf(&b, "%d\t%s\t%s\t%s\t%s\n", f.Index, f.Name, f.Kind, f.Unit, strings.Join(src, " + "))
	}
	if *update {
		if err := os.WriteFile(goldenFeaturesV2, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(goldenFeaturesV2)
	if err != nil {
		t.Fatal(err)
	}
	if string(want) != b.String() {
		t.Errorf("feature set 2 differs from %s:\n%s", goldenFeaturesV2, b.String())
	}
}
