package privacy

import (
	"fmt"
	"math"
)

// ThresholdDelta is the δ that the k-anonymity threshold costs: the
// probability that a cohort of a single user is published, P(1+Z ≥ k) =
// P(Z ≥ k-1) = a^(k-1)/(1+a) for the users-count noise Z with
// a = exp(-epsUsers) (sensitivity 1; epsUsers rounded as NewScale rounds
// it, which makes a no smaller, and δ no smaller for k ≥ 2). Without that user the row does
// not exist at all, so no ε covers this event: it is the δ of the
// published rows' (ε, δ) guarantee.
//
// It returns 1, the bound that says nothing, when k < 1 or epsUsers is
// not a valid noise scale (NewScale fails).
func ThresholdDelta(epsUsers float64, k int) float64 {
	s, err := NewScale(epsUsers, 1)
	if err != nil || k < 1 {
		return 1
	}
	g := s.Gamma()
	return math.Exp(-g*float64(k-1)) / (1 + math.Exp(-g))
}

// ReleaseDelta is the δ of one release under budget b with threshold k:
// at each of the b.Levels chain levels, a group that exists only because
// of one user passes the threshold with probability ThresholdDelta of that
// level's users-count noise; those events add up.
func ReleaseDelta(b *Budget, k int) float64 {
	return float64(b.Levels) * ThresholdDelta(b.users.Gamma(), k)
}

// CheckDelta reports whether a configured δ (in (0, 1)) covers the k
// thresholds of a release under budget b: δ must be at least ReleaseDelta.
func CheckDelta(delta float64, b *Budget, k int) error {
	if !(delta > 0 && delta < 1) {
		return fmt.Errorf("privacy: delta %g, want a probability in (0, 1)", delta)
	}
	if need := ReleaseDelta(b, k); delta < need {
		return fmt.Errorf("privacy: delta %g is below %.3g, the probability that a group of one user passes the k=%d threshold at one of %d generalization levels when each users count gets epsilon %.3g (%g%% of epsilon %g per window, over %d levels): raise epsilon, k or delta",
			delta, need, k, b.Levels, b.users.Gamma(), UsersShare*100, b.Epsilon, b.Levels)
	}
	return nil
}
