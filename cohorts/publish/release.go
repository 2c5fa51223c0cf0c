package publish

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	"github.com/cohortline/cohortline/cohorts"
	"github.com/cohortline/cohortline/cohorts/privacy"
)

// Noise is how a release protects its values: the keyed noiser and the
// budget split, of the spec's ε (feature set 1, Budget) or ρ (feature
// set 2, ZBudget). The zero Noise adds none: the test mode, which the
// caller must have refused unless it was asked for explicitly.
type Noise struct {
	Noiser  *privacy.Noiser
	Budget  *privacy.Budget  // feature set 1
	ZBudget *privacy.ZBudget // feature set 2
}

// usersScale is the noise of the users counts.
func (n Noise) usersScale() privacy.Scale {
	if n.ZBudget != nil {
		s, _ := n.ZBudget.Scale(privacy.SlotUsers)
		return s
	}
	return n.Budget.Scale(privacy.SlotUsers)
}

// Enabled reports whether values are noised.
func (n Noise) Enabled() bool { return n.Noiser != nil }

// Row is one published cohort of one window: what cohort_enrichment holds.
type Row struct {
	Window cohorts.Window
	Key    cohorts.Key
	ID     uint64 // Key.ID()
	// Level is the chain level (cohorts.Spec.Ancestor): 0 for a finest
	// cohort, i when the first i dimensions of Spec.Generalize are "*".
	Level int
	// Users is the noisy distinct-user count that passed the k threshold:
	// the true count of the finest cohorts it covers plus the noise of
	// this row's level.
	Users uint64
	// Features are the noisy values of the spec's feature set: for
	// feature set 1 clamped at 0, for feature set 2 post-processed
	// (postprocess.go), NaN for the slots of an off block.
	Features []float32
	// FeatureSet is the feature set of Features.
	FeatureSet int
	// Covers is how many finest cohorts the row covers (1 at level 0).
	Covers int
}

// Stats says what a release did with the finest cohorts of its window.
type Stats struct {
	Finest          int // finest cohorts with at least one user
	PublishedFinest int // published as themselves (level 0)
	Merged          int // covered by a generalized row (level > 0)
	Suppressed      int // below k even as the all-"*" cohort: in no row
	SuppressedUsers uint64
	Rows            int         // published rows
	RowsByLevel     map[int]int // published rows by chain level
}

// Digest is the SHA-256 of a window's input partials in a canonical
// encoding (sorted by cohort id, then key): equal inputs, equal digests.
// It seeds the noise (privacy.Scope.InputDigest), so a republish of the
// same partials gives the same numbers and spends no budget, and tells the
// ledger whether the partials changed since the last release.
func Digest(partials []cohorts.Partial) [32]byte {
	sorted := slices.Clone(partials)
	sortPartials(sorted)
	h := sha256.New()
	var b [8]byte
	word := func(v uint64) {
		binary.BigEndian.PutUint64(b[:], v)
		h.Write(b[:])
	}
	word(uint64(len(sorted)))
	for _, p := range sorted {
		key := p.Key.String()
		word(uint64(len(key)))
		h.Write([]byte(key))
		word(p.Users)
		word(p.Events)
		word(uint64(len(p.Values)))
		for _, v := range p.Values {
			word(v)
		}
	}
	var d [32]byte
	h.Sum(d[:0])
	return d
}

func sortPartials(ps []cohorts.Partial) {
	slices.SortFunc(ps, func(a, b cohorts.Partial) int {
		return cmp.Or(cmp.Compare(a.ID, b.ID), cmp.Compare(a.Key.String(), b.Key.String()))
	})
}

// group is the finest cohorts still unpublished that share one key at the
// current chain level.
type group struct {
	key        cohorts.Key
	members    []int  // indexes into the finest partials
	users      uint64 // true distinct users of the members
	noisyUsers int64  // users plus this level's noise
}

// Release protects and generalizes the finest partials of one window
// (summed over partitions, each cohort once) into published rows:
//
//  1. at chain level 0, 1, …, len(Spec.Generalize), the finest cohorts not
//     yet published are grouped by their ancestor key at that level, and
//     each group gets a noisy users count, fresh at each level (seeded by
//     the group's cohort id, which differs across levels); a group whose
//     noisy count reaches k is published as one row, the rest go up one
//     level. A user is in one group per level, so the users block of the
//     budget pays for one count per level (cohorts/privacy, "Threshold");
//  2. what is still below k as the all-"*" cohort is suppressed.
//
// So every user is in at most one row (the rows partition the published
// users), no row has a noisy count below k, and a row's features are its
// members' values summed, then noised once per slot with the row's own
// cohort id (the feature blocks compose in parallel over rows).
//
// Rows are ordered by cohort id. Release does not modify partials.
func Release(spec cohorts.Spec, noise Noise, scope privacy.Scope, window cohorts.Window, partials []cohorts.Partial) ([]Row, Stats, error) {
	finest := slices.Clone(partials)
	sortPartials(finest)
	fs, err := cohorts.FeatureSetOf(spec.FeatureSet)
	if err != nil {
		return nil, Stats{}, fmt.Errorf("release of %s: %w", window, err)
	}
	if noise.Enabled() && (spec.FeatureSet == cohorts.FeatureSetV2Version) != (noise.ZBudget != nil) {
		return nil, Stats{}, fmt.Errorf("BUG: release of %s: feature set %d with the other feature set's budget", window, spec.FeatureSet)
	}
	scratch := make([]uint64, fs.Len())
	for _, p := range finest {
		if p.Key.Level() != 0 {
			return nil, Stats{}, fmt.Errorf("release of %s: cohort %s is generalized; partials hold finest cohorts only", window, p.Key)
		}
		if len(p.Values) != cohorts.NumFeaturesV1() && len(p.Values) != cohorts.NumPartialValues() {
			return nil, Stats{}, fmt.Errorf("release of %s: cohort %s has %d values, partial layouts have %d or %d", window, p.Key, len(p.Values), cohorts.NumFeaturesV1(), cohorts.NumPartialValues())
		}
		if err := fs.Project(scratch, p.Values); err != nil {
			return nil, Stats{}, fmt.Errorf("release of %s: cohort %s: %w", window, p.Key, err)
		}
	}

	stats := Stats{Finest: len(finest), RowsByLevel: map[int]int{}}
	pending := make([]int, len(finest))
	for i := range pending {
		pending[i] = i
	}
	var rows []Row
	top := len(spec.Generalize)
	for level := 0; level <= top && len(pending) > 0; level++ {
		var next []int
		for _, g := range groupAt(spec, level, finest, pending) {
			g.noisyUsers = int64(g.users)
			if noise.Enabled() {
				g.noisyUsers += noise.Noiser.Noise(scope, g.key.ID(), privacy.SlotUsers, noise.usersScale())
			}
			if g.noisyUsers < int64(spec.K) {
				next = append(next, g.members...)
				continue
			}
			rows = append(rows, publishGroup(spec, fs, noise, scope, window, level, g, finest))
			stats.RowsByLevel[level]++
			if level == 0 {
				stats.PublishedFinest += len(g.members)
			} else {
				stats.Merged += len(g.members)
			}
		}
		pending = next
	}
	for _, i := range pending {
		stats.Suppressed++
		stats.SuppressedUsers += finest[i].Users
	}
	stats.Rows = len(rows)
	slices.SortFunc(rows, func(a, b Row) int {
		return cmp.Or(cmp.Compare(a.ID, b.ID), cmp.Compare(a.Key.String(), b.Key.String()))
	})
	return rows, stats, nil
}

// groupAt groups the pending finest cohorts by their ancestor at level, in
// order of first member (pending is in cohort-id order): deterministic.
func groupAt(spec cohorts.Spec, level int, finest []cohorts.Partial, pending []int) []*group {
	byKey := map[cohorts.Key]*group{}
	var groups []*group
	for _, i := range pending {
		k := spec.Ancestor(finest[i].Key, level)
		g := byKey[k]
		if g == nil {
			g = &group{key: k}
			byKey[k] = g
			groups = append(groups, g)
		}
		g.members = append(g.members, i)
		g.users += finest[i].Users
	}
	return groups
}

// publishGroup sums the members' values, projects them on the feature
// set and noises them as the row's.
func publishGroup(spec cohorts.Spec, fs *cohorts.FeatureSet, noise Noise, scope privacy.Scope, window cohorts.Window, level int, g *group, finest []cohorts.Partial) Row {
	sums := make([]uint64, cohorts.NumPartialValues())
	for _, i := range g.members {
		for s, v := range finest[i].Values {
			sums[s] += v
		}
	}
	proj := make([]uint64, fs.Len())
	if err := fs.Project(proj, sums[:len(finest[g.members[0]].Values)]); err != nil {
		panic("BUG: publish: partials checked by Release do not project: " + err.Error())
	}
	id := g.key.ID()
	row := Row{
		Window: window, Key: g.key, ID: id, Level: level, FeatureSet: fs.Version,
		Users: uint64(g.noisyUsers), Covers: len(g.members),
	}
	if fs.Version == cohorts.FeatureSetV2Version && noise.Enabled() {
		row.Users, row.Features = postProcess(noisyV2(noise, scope, id, g.noisyUsers, proj), spec.K)
		return row
	}
	row.Features = make([]float32, fs.Len())
	for s, v := range proj {
		if noise.Enabled() {
			v = privacy.AddClamped(v, noise.Noiser.Noise(scope, id, s, noise.Budget.Scale(s)))
		}
		row.Features[s] = float32(v)
	}
	return row
}

// noisyV2 draws the noise of a feature set 2 row: every slot of an
// enabled block gets its block's noise, the slots of off blocks NaN.
func noisyV2(noise Noise, scope privacy.Scope, id uint64, noisyUsers int64, proj []uint64) noisyRow {
	r := noisyRow{
		users: float64(noisyUsers), usersVar: noise.usersScale().Variance(),
		vals: make([]float64, len(proj)), vars: make([]float64, len(proj)),
	}
	for s, v := range proj {
		scale, on := noise.ZBudget.Scale(s)
		if !on {
			r.vals[s] = math.NaN()
			continue
		}
		r.vals[s] = float64(v) + float64(noise.Noiser.Noise(scope, id, s, scale))
		r.vars[s] = scale.Variance()
	}
	return r
}
