package privacy

import (
	"fmt"
	"math"
	"math/big"

	"github.com/cohortline/cohortline/cohorts"
)

// UsersShare is the part of each window's ε spent on the users counts. The
// users counts decide k-anonymity (a group is published only if its noisy
// count reaches k) at every generalization level, and the δ of those
// thresholds (ThresholdDelta), so they get a fixed, larger share than any
// other block; the rest is split equally among the other blocks. A half is
// exact in binary, so ε·UsersShare is exact too.
const UsersShare = 0.5

// Block is a set of slots of a published row whose noise shares one part
// of the budget (sequential composition: the blocks' ε add up to the
// window's ε). Every slot of a block is noised with the same Scale,
// a = exp(-Epsilon/Sensitivity).
type Block struct {
	// Name is "users", "reach", "sum.kind", "sum.peer",
	// "sum.media", "sum.category", "hist" or "sum.call_seconds".
	Name string
	// Slots are the block's slots: SlotUsers or feature slots.
	Slots []int
	// Sensitivity is the L1 sensitivity Δ of the block: the most one
	// user's events in a window can change its slots, all together.
	Sensitivity uint64
	// Epsilon is the block's share of the window's ε.
	Epsilon float64
	// Scale is the noise of each slot; its Gamma is Epsilon/Sensitivity
	// rounded down (so Gamma·Sensitivity ≤ Epsilon).
	Scale Scale
}

// Budget is the noise of every slot of a published row under one spec and
// one per-window ε: Split makes it.
type Budget struct {
	Epsilon float64 // per window, over all blocks
	Blocks  []Block // users first, then feature blocks in slot order
	// Levels is how many users counts one user can be in: one per level of
	// the generalization chain, len(Spec.Generalize)+1 (publish.Release
	// noises the groups of each level afresh). It is the users block's Δ.
	Levels int
	scales []Scale // by feature slot
	users  Scale
}

// Split divides the per-window budget epsilon among the blocks of feature
// set v1 under spec: UsersShare to the users count, the rest equally to
// the other blocks, whose sensitivities are
//
//	reach           R, the number of reach slots: a user can reach them all
//	sum.<group>     the events bound: an event adds 1 to one slot per group
//	hist            1: a user is in exactly one bucket
//	sum.call_seconds the call-seconds bound
//
// (Feature.MaxPerUser and Feature.Group). The shares are computed in
// rational arithmetic, so the blocks' effective ε (Gamma·Sensitivity)
// add up to at most epsilon, exactly.
func Split(spec cohorts.Spec, epsilon float64) (Budget, error) {
	if math.IsNaN(epsilon) || math.IsInf(epsilon, 0) || epsilon <= 0 {
		return Budget{}, fmt.Errorf("privacy budget: epsilon %g, want a positive finite number", epsilon)
	}
	if err := spec.Validate(); err != nil {
		return Budget{}, fmt.Errorf("privacy budget: %w", err)
	}
	blocks := []Block{
		// One count per chain level: publish.Release judges a user's group
		// at each level until one is published, each time with fresh
		// noise (adaptive composition; a sum of noisy counts instead would
		// let a lone user's cohort move a merged group by 1+Z, which no ε
		// bounds).
		{Name: "users", Slots: []int{SlotUsers}, Sensitivity: uint64(len(spec.Generalize) + 1)},
	}
	features := cohorts.FeatureSetV1()
	index := map[string]int{}
	for _, f := range features {
		name, additive := blockOf(f)
		i, ok := index[name]
		if !ok {
			i = len(blocks)
			index[name] = i
			blocks = append(blocks, Block{Name: name})
		}
		b := &blocks[i]
		b.Slots = append(b.Slots, f.Index)
		if additive {
			b.Sensitivity += f.MaxPerUser(spec)
		} else {
			b.Sensitivity = max(b.Sensitivity, f.MaxPerUser(spec))
		}
	}

	total := new(big.Rat).SetFloat64(epsilon)
	users := new(big.Rat).Mul(total, new(big.Rat).SetFloat64(UsersShare))
	rest := new(big.Rat).Sub(total, users)
	rest.Quo(rest, big.NewRat(int64(len(blocks)-1), 1))
	b := Budget{Epsilon: epsilon, Blocks: blocks, Levels: len(spec.Generalize) + 1, scales: make([]Scale, len(features))}
	for i := range blocks {
		share := rest
		if i == 0 {
			share = users
		}
		s, err := scaleOf(share, blocks[i].Sensitivity)
		if err != nil {
			return Budget{}, fmt.Errorf("privacy budget: block %s: %w", blocks[i].Name, err)
		}
		blocks[i].Epsilon, _ = share.Float64()
		blocks[i].Scale = s
		for _, slot := range blocks[i].Slots {
			switch slot {
			case SlotUsers:
				b.users = s
			default:
				b.scales[slot] = s
			}
		}
	}
	return b, nil
}

// blockOf returns the block of a feature slot and whether the slots of
// that block add up their sensitivities (a user can add to all of them)
// or share one bound (together a user adds at most one slot's bound).
func blockOf(f cohorts.Feature) (name string, additive bool) {
	switch {
	case f.Kind == cohorts.FeatureReach:
		return "reach", true
	case f.Kind == cohorts.FeatureHistogram:
		return "hist", false
	case f.Kind == cohorts.FeatureSum && f.Group != "":
		return "sum." + f.Group, false
	case f.Kind == cohorts.FeatureSum:
		return f.Name, false // a sum of its own, like call seconds
	}
	panic(fmt.Sprintf("BUG: privacy: feature %s has kind %s, which has no block", f.Name, f.Kind))
}

// Scale returns the noise of a slot: SlotUsers or a feature
// slot of feature set v1. Any other slot is a bug, and panics.
func (b *Budget) Scale(slot int) Scale {
	switch {
	case slot == SlotUsers:
		return b.users
	case slot >= 0 && slot < len(b.scales):
		return b.scales[slot]
	}
	panic(fmt.Sprintf("BUG: privacy: slot %d is neither SlotUsers nor one of the %d feature slots", slot, len(b.scales)))
}
