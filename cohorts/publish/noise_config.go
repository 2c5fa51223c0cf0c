package publish

import (
	"fmt"

	"github.com/cohortline/cohortline/cohorts"
	"github.com/cohortline/cohortline/cohorts/privacy"
)

// NoiseFor returns the noise of spec's feature set keyed by n: the pure-ε
// split (privacy.Split) for feature set 1, the zCDP split
// (privacy.SplitZCDP) for feature set 2, after CheckNoise.
func NoiseFor(spec cohorts.Spec, n *privacy.Noiser) (Noise, error) {
	if err := CheckNoise(spec); err != nil {
		return Noise{}, err
	}
	if spec.FeatureSet == cohorts.FeatureSetV2Version {
		z, err := privacy.SplitZCDP(spec)
		if err != nil {
			return Noise{}, fmt.Errorf("cohorts: privacy: %w", err)
		}
		return Noise{Noiser: n, ZBudget: &z}, nil
	}
	b, err := privacy.Split(spec, spec.Privacy.Epsilon)
	if err != nil {
		return Noise{}, fmt.Errorf("cohorts: privacy: %w", err)
	}
	return Noise{Noiser: n, Budget: &b}, nil
}

// CheckNoise reports, naming the config key, why releases of spec could
// not be noised: a budget that the samplers refuse, or a δ below what
// the k thresholds need. Checked when the config is loaded, so that a
// spec nothing can publish fails at start.
func CheckNoise(spec cohorts.Spec) error {
	if spec.FeatureSet != cohorts.FeatureSetV2Version {
		b, err := privacy.Split(spec, spec.Privacy.Epsilon)
		if err != nil {
			return fmt.Errorf("cohorts.privacy.epsilon: %w", err)
		}
		if err := privacy.CheckDelta(spec.Privacy.Delta, &b, spec.K); err != nil {
			return fmt.Errorf("cohorts.privacy.delta: %w", err)
		}
		return nil
	}
	z, err := privacy.SplitZCDP(spec)
	if err != nil {
		return fmt.Errorf("cohorts.privacy: %w", err)
	}
	if need := z.ReleaseDelta(spec.K); spec.Privacy.Delta < need {
		users, _ := z.Scale(privacy.SlotUsers)
		return fmt.Errorf("cohorts.privacy.delta: %g is below %.3g, the probability that a group of one user passes the k=%d threshold at one of %d generalization levels with users-count noise %s (rho %g per window of %s): raise privacy.rho or the users block's weight, k or delta, use longer windows, or feature_set: 1",
			spec.Privacy.Delta, need, spec.K, z.Levels, users, spec.Privacy.Rho, spec.Window)
	}
	return nil
}
