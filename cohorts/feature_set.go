package cohorts

import (
	"fmt"
)

// FeatureSet is a published feature vector layout: its dictionary and how
// each slot is computed from the slots of a partial (Project). Feature
// set 1 is the partials' first 92 slots as they are; feature set 2
// (DefaultFeatureSet) groups business categories and drops the sums by
// peer and by media (see featureSetV2).
type FeatureSet struct {
	Version  int
	Features []Feature
	// sources[i] are the partial slots that add up to published slot i.
	sources [][]int
	// partialLen is the least length of Partial.Values it reads: 92 for
	// v1 (layout 1 or 2), NumPartialValues for v2 (layout 2 only).
	partialLen int
}

// The feature sets this build publishes.
const (
	FeatureSetV1Version = 1
	FeatureSetV2Version = 2
	DefaultFeatureSet   = FeatureSetV2Version
)

var featureSets = map[int]*FeatureSet{1: featureSetV1(), 2: featureSetV2()}

// FeatureSetOf returns feature set n, or an error naming the known ones.
func FeatureSetOf(n int) (*FeatureSet, error) {
	if fs, ok := featureSets[n]; ok {
		return fs, nil
	}
	return nil, fmt.Errorf("feature set %d: unknown, want 1 or 2", n)
}

// MustFeatureSet is FeatureSetOf for a validated spec's feature set.
func MustFeatureSet(n int) *FeatureSet {
	fs, err := FeatureSetOf(n)
	if err != nil {
		panic("BUG: " + err.Error())
	}
	return fs
}

// Len is the number of published slots.
func (fs *FeatureSet) Len() int { return len(fs.Features) }

// Project writes the published slots of one partial (or a sum of
// partials) into dst, len Len(): each the sum of its source slots. It
// returns an error when values has too few slots for the feature set: a
// layout-1 partial has no category-group reach.
func (fs *FeatureSet) Project(dst, values []uint64) error {
	if len(values) < fs.partialLen {
		return fmt.Errorf("feature set %d needs partials of layout %d (%d values), these have %d values (layout 1, written before feature set 2): backfill the window to publish it with feature set %d",
			fs.Version, PartialFeatureSet, fs.partialLen, len(values), fs.Version)
	}
	for i, src := range fs.sources {
		var v uint64
		for _, s := range src {
			v += values[s]
		}
		dst[i] = v
	}
	return nil
}

// ProjectFloat is Project for real-valued slots (means, variances): no
// layout check, missing source slots read as 0.
func (fs *FeatureSet) ProjectFloat(dst, values []float64) {
	for i, src := range fs.sources {
		var v float64
		for _, s := range src {
			if s < len(values) {
				v += values[s]
			}
		}
		dst[i] = v
	}
}

// Slot returns the index of the published feature named name, or -1.
func (fs *FeatureSet) Slot(name string) int {
	for _, f := range fs.Features {
		if f.Name == name {
			return f.Index
		}
	}
	return -1
}

func featureSetV1() *FeatureSet {
	fs := &FeatureSet{Version: 1, Features: FeatureSetV1(), partialLen: v1.numValues}
	for i := range fs.Features {
		fs.sources = append(fs.sources, []int{i})
	}
	return fs
}

// PartialFeatures is the dictionary of Partial.Values (layout 2): feature
// set v1's slots, then one reach slot per category group.
func PartialFeatures() []Feature {
	out := FeatureSetV1()
	for i, g := range CategoryGroups() {
		out = append(out, Feature{
			Index: groups.reachSlot + i, Name: "reach.category_group." + g.Name,
			Description: "Distinct users with at least one event with a business of group " + g.Name + " (" + g.Title + ")",
			Unit:        "users", Kind: FeatureReach, Group: "category_group",
		})
	}
	return out
}

// featureSetV2 is feature set 2, the default:
//
//	reach.kind.*, reach.peer.*, reach.media.*   18 slots, as in v1
//	reach.category_group.*                      7 (the 25 category slots of v1 merged)
//	sum.kind.*                                  7, as in v1
//	sum.category_group.*                        7 (sums of v1's category sums)
//	hist.events.*                               5, as in v1
//	sum.call_seconds                            1, as in v1
//
// 45 slots instead of 92. Left out: sum.peer.* and sum.media.*, which
// count the very events of sum.kind.* a second and third time (each of
// the three families adds up to the events total): under zCDP each
// family of E-bounded sums costs ρ = E²/(2σ²), so three families need 3×
// the ρ of one for the same σ, or √3 the σ at the same ρ; peer and media
// survive as reach, which costs 1 per slot, not E. The events total is
// the sum of sum.kind.* (post-processing), not a slot.
func featureSetV2() *FeatureSet {
	fs := &FeatureSet{Version: 2, partialLen: NumPartialValues()}
	add := func(name, desc, unit string, kind FeatureKind, group string, src ...int) {
		fs.Features = append(fs.Features, Feature{Index: len(fs.Features), Name: name, Description: desc, Unit: unit, Kind: kind, Group: group})
		fs.sources = append(fs.sources, src)
	}
	partial := PartialFeatures()
	for _, f := range partial[:v1.numReach] {
		if f.Group != "category" {
			add(f.Name, f.Description, f.Unit, f.Kind, f.Group, f.Index)
		}
	}
	cg := CategoryGroups()
	for i := range cg {
		f := partial[groups.reachSlot+i]
		add(f.Name, f.Description, f.Unit, f.Kind, f.Group, f.Index)
	}
	for _, f := range partial[v1.numReach : 2*v1.numReach] {
		if f.Group == "kind" {
			add(f.Name, f.Description, f.Unit, f.Kind, f.Group, f.Index)
		}
	}
	for i, g := range cg {
		add("sum.category_group."+g.Name, "Events with a business of group "+g.Name+" ("+g.Title+"), counting at most the events bound per user",
			"events", FeatureSum, "category_group", groups.sumSlots[i]...)
	}
	for _, f := range partial[v1.histSlot:v1.numValues] {
		add(f.Name, f.Description, f.Unit, f.Kind, f.Group, f.Index)
	}
	return fs
}

// CallSlot is the index of sum.call_seconds in the feature set.
func (fs *FeatureSet) CallSlot() int { return fs.Slot("sum.call_seconds") }

// MaxPerUser is Feature.MaxPerUser for a slot of this feature set: 1 for
// reach and histogram slots, the call-seconds bound for call seconds, the
// events bound for other sums.
func (fs *FeatureSet) MaxPerUser(slot int, s Spec) uint64 {
	f := fs.Features[slot]
	switch {
	case f.Kind != FeatureSum:
		return 1
	case f.Name == "sum.call_seconds":
		return uint64(effectiveCallBound(s))
	default:
		return uint64(effectiveEventsBound(s))
	}
}
