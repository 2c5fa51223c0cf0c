package privacy

import (
	"fmt"
	"math"
	"math/big"

	"github.com/cohortline/cohortline/cohorts"
)

// ZBlock is one block of a feature set 2 row under zCDP accounting.
type ZBlock struct {
	// Name is one of cohorts.BlockNames.
	Name string
	// Slots are SlotUsers or feature set 2 slots.
	Slots []int
	// Mechanism noises every slot of the block; Off blocks have none.
	Mechanism Mechanism
	Off       bool
	// L1 and L2Squared are the block's sensitivities: the most one user
	// can change its slots, in the L1 norm and in the squared L2 norm.
	// The users block counts each of the Levels counts a user is in.
	L1, L2Squared uint64
	// Weight is the block's weight (cohorts.Privacy.Block), RhoShare its
	// share of the window's ρ, and Rho what its Scale spends (at most
	// RhoShare: the samplers round towards more noise).
	Weight   float64
	RhoShare float64
	Rho      float64
	// Epsilon is the block's pure ε for a Laplace block (Gamma·L1); 0 for
	// a Gaussian one, which has no pure ε.
	Epsilon float64
	Scale   Scale
}

// ZBudget is the noise of every slot of a feature set 2 row under one
// spec: SplitZCDP makes it.
type ZBudget struct {
	Rho    float64 // per window, configured
	Levels int     // users counts per person: len(Spec.Generalize)+1
	Blocks []ZBlock
	users  Scale
	scales []Scale // by feature slot; the zero Scale for an off block
}

// SplitZCDP divides the per-window ρ (spec.Privacy.Rho) of a feature set
// 2 spec among the blocks by weight (spec.Privacy.Block), off blocks
// excluded, in rational arithmetic so that the blocks' ρ add up to at
// most the configured ρ. Block sensitivities, with E the events bound and
// C the call-seconds bound, L the generalization levels:
//
//	block               slots   L1     L2²
//	users               1       L+1    L+1   (one count per level)
//	reach               25      25     25    (a user can reach every slot)
//	sum.kind            7       E      E²    (the E events of a user, in any slots)
//	sum.category_group  7       E      E²
//	hist                5       1      1     (a user is in one bucket)
//	sum.call_seconds    1       C      C²
//
// A Gaussian block of share ρ_b gets σ² = L2²/(2ρ_b) (ρ_b-zCDP, CKS
// Thm. 4); a Laplace block ε_b = sqrt(2ρ_b), a = exp(-ε_b/L1) (ε_b-DP,
// hence ε_b²/2 = ρ_b-zCDP). The Gaussian needs L2²/(2ρ_b) variance where
// the Laplace needs about L1²/ρ_b: for reach and the sums (L2² ≤ L1²) it
// is always better, for the users count and the histogram (L1 = L2² = 1
// per level) it still halves the variance, which is why every block
// defaults to it.
func SplitZCDP(spec cohorts.Spec) (ZBudget, error) {
	if err := spec.Validate(); err != nil {
		return ZBudget{}, fmt.Errorf("privacy budget: %w", err)
	}
	if spec.FeatureSet != cohorts.FeatureSetV2Version {
		return ZBudget{}, fmt.Errorf("privacy budget: feature set %d is accounted in pure epsilon (Split), not zCDP", spec.FeatureSet)
	}
	fs := cohorts.MustFeatureSet(spec.FeatureSet)
	levels := uint64(len(spec.Generalize) + 1)
	index := map[string]int{}
	blocks := make([]ZBlock, len(cohorts.BlockNames))
	for i, name := range cohorts.BlockNames {
		index[name] = i
		blocks[i].Name = name
	}
	blocks[0].Slots, blocks[0].L1, blocks[0].L2Squared = []int{SlotUsers}, levels, levels
	for _, f := range fs.Features {
		name := zBlockOf(f)
		b := &blocks[index[name]]
		b.Slots = append(b.Slots, f.Index)
		m := fs.MaxPerUser(f.Index, spec)
		if f.Kind == cohorts.FeatureReach {
			b.L1, b.L2Squared = b.L1+m, b.L2Squared+m*m
		} else {
			b.L1, b.L2Squared = max(b.L1, m), max(b.L2Squared, m*m) // one shared bound
		}
	}

	total := new(big.Rat)
	weights := make([]*big.Rat, len(blocks))
	for i := range blocks {
		bb := spec.Privacy.Block(blocks[i].Name)
		blocks[i].Off, blocks[i].Weight = bb.Off, bb.Weight
		blocks[i].Mechanism, _ = ParseMechanism(bb.Mechanism)
		if !bb.Off {
			weights[i] = new(big.Rat).SetFloat64(bb.Weight)
			total.Add(total, weights[i])
		}
	}
	if total.Sign() <= 0 {
		return ZBudget{}, fmt.Errorf("privacy budget: the weights of privacy.blocks add up to 0")
	}
	rho := new(big.Rat).SetFloat64(spec.Privacy.Rho)
	z := ZBudget{Rho: spec.Privacy.Rho, Levels: int(levels), Blocks: blocks, scales: make([]Scale, fs.Len())}
	for i := range blocks {
		b := &blocks[i]
		if b.Off {
			continue
		}
		share := new(big.Rat).Mul(rho, weights[i])
		share.Quo(share, total)
		b.RhoShare, _ = share.Float64()
		var err error
		if b.Mechanism == Gaussian {
			b.Scale, err = gaussianScaleOf(share, b.L2Squared)
			b.Rho = b.Scale.Rho(b.L2Squared)
		} else {
			// ε_b = sqrt(2ρ_b), rounded down so that ε_b²/2 ≤ ρ_b.
			eps := math.Nextafter(math.Sqrt(2*b.RhoShare), 0)
			b.Scale, err = scaleOf(new(big.Rat).SetFloat64(eps), b.L1)
			b.Rho = b.Scale.Rho(b.L1)
			b.Epsilon = b.Scale.Gamma() * float64(b.L1)
		}
		if err != nil {
			return ZBudget{}, fmt.Errorf("privacy budget: block %s: %w", b.Name, err)
		}
		for _, slot := range b.Slots {
			if slot == SlotUsers {
				z.users = b.Scale
			} else {
				z.scales[slot] = b.Scale
			}
		}
	}
	return z, nil
}

// zBlockOf is the block of a feature set 2 slot.
func zBlockOf(f cohorts.Feature) string {
	switch {
	case f.Kind == cohorts.FeatureReach:
		return "reach"
	case f.Kind == cohorts.FeatureHistogram:
		return "hist"
	case f.Name == "sum.call_seconds":
		return "sum.call_seconds"
	case f.Kind == cohorts.FeatureSum:
		return "sum." + f.Group
	}
	panic(fmt.Sprintf("BUG: privacy: feature %s has kind %s, which has no block", f.Name, f.Kind))
}

// RhoSpent is the ρ one release spends: the sum of its blocks' ρ, at most
// Rho.
func (z *ZBudget) RhoSpent() float64 {
	var r float64
	for _, b := range z.Blocks {
		r += b.Rho
	}
	return r
}

// Scale returns the noise of a slot (SlotUsers or a feature set 2 slot)
// and false if the slot's block is off (publish NaN).
func (z *ZBudget) Scale(slot int) (Scale, bool) {
	switch {
	case slot == SlotUsers:
		return z.users, true
	case slot >= 0 && slot < len(z.scales):
		return z.scales[slot], z.scales[slot].num != 0
	}
	panic(fmt.Sprintf("BUG: privacy: slot %d is neither SlotUsers nor one of the %d feature slots", slot, len(z.scales)))
}

// ThresholdDeltaOf is the probability that a cohort of one user reaches
// the k threshold under users-count noise s: P(Z ≥ k-1). For the
// Laplace, ThresholdDelta; for the discrete Gaussian the exact tail,
// summed from its pmf.
func ThresholdDeltaOf(s Scale, k int) float64 {
	if s.mech != Gaussian {
		return ThresholdDelta(s.Gamma(), k)
	}
	return gaussianTail(s.Sigma2(), int64(k-1))
}

// gaussianTail is P(Z ≥ m) of the discrete Gaussian of σ², m ≥ 0,
// summed to where the terms are below 10^-20 of the sum.
func gaussianTail(sigma2 float64, m int64) float64 {
	norm := 1.0
	limit := int64(40*math.Sqrt(sigma2)) + 2
	for z := int64(1); z <= limit; z++ {
		norm += 2 * math.Exp(-float64(z*z)/(2*sigma2))
	}
	var tail float64
	for z := m; ; z++ {
		p := math.Exp(-float64(z*z) / (2 * sigma2))
		tail += p
		if p == 0 || p < 1e-20*tail {
			break
		}
	}
	return tail / norm
}

// ReleaseDelta is the δ of the k thresholds of one release under z: at
// each of the Levels chain levels, a group of one user passes with
// probability ThresholdDeltaOf; the events add up.
func (z *ZBudget) ReleaseDelta(k int) float64 {
	return float64(z.Levels) * ThresholdDeltaOf(z.users, k)
}
