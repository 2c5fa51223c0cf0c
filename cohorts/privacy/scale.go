package privacy

import (
	"fmt"
	"math"
	"math/big"
)

// gammaBits is the fixed-point precision of a Scale: γ = ε/Δ is held as
// the integer num = ⌊γ·2^gammaBits⌋, so that the sampler runs on integers
// only (laplace.go) and gives the same draws on every architecture.
const gammaBits = 40

// Range of a Scale's γ = ε/Δ. Below 2^-40 the fixed point has no bit to
// hold it (and noise with a standard deviation above 10^12 drowns any
// count); above 2^20 the noise is 0 with probability 1 - 2·e^-(2^20):
// that is no noise, a misconfiguration, not a privacy setting. 2^-40
// keeps the rounding of γ below 10^-4 of γ for any block with ε/Δ above
// 10^-8 (ε = 0.01 spread over a call-seconds bound of 10^6).
const (
	minGammaNum = 1
	maxGammaNum = 1 << (20 + gammaBits)
)

// Mechanism is the noise distribution family of a Scale.
type Mechanism uint8

const (
	// Laplace is the discrete Laplace distribution: pure ε-DP for a block
	// of L1 sensitivity Δ at a = exp(-ε/Δ), ρ = ε²/2 in zCDP.
	Laplace Mechanism = iota + 1
	// Gaussian is the discrete Gaussian: ρ-zCDP with ρ = Δ₂²/(2σ²) for a
	// block of L2 sensitivity Δ₂ (CKS 2020, Theorem 4); no pure ε.
	Gaussian
)

func (m Mechanism) String() string {
	switch m {
	case Laplace:
		return "laplace"
	case Gaussian:
		return "gaussian"
	}
	return "invalid"
}

// ParseMechanism is the inverse of String.
func ParseMechanism(s string) (Mechanism, bool) {
	switch s {
	case "laplace":
		return Laplace, true
	case "gaussian":
		return Gaussian, true
	}
	return 0, false
}

// Scale is the noise distribution of one slot: discrete Laplace with
// P(Z=z) = (1-a)/(1+a)·a^|z|, a = exp(-γ), γ = ε/Δ for a block of slots
// with budget ε and L1 sensitivity Δ; or the discrete Gaussian with
// P(Z=z) ∝ exp(-z²/(2σ²)) (NewGaussianScale).
//
// γ is held in fixed point, rounded down to a multiple of 2^-40, and σ²
// rounded up to a multiple of 2^-16: the noise is then at least as large
// as the budget asks for, so the rounding never spends more than
// configured (Gamma and Sigma2 give the values used). The zero Scale is
// invalid: NewScale, NewGaussianScale or Split make Scales.
type Scale struct {
	mech Mechanism
	// Laplace: γ·2^gammaBits, in [minGammaNum, maxGammaNum];
	// Gaussian: σ²·2^sigma2Bits, in [minSigma2Num, maxSigma2Num].
	num uint64
	t   uint64 // Gaussian: ⌊σ⌋+1, the scale of its Laplace proposals
}

// NewScale returns the noise of a slot in a block with budget epsilon and
// L1 sensitivity (the most one user can change the block's slots
// together). γ = epsilon/sensitivity is rounded down exactly, in rational
// arithmetic, so the effective ε (Gamma·sensitivity) never exceeds
// epsilon.
func NewScale(epsilon float64, sensitivity uint64) (Scale, error) {
	if math.IsNaN(epsilon) || math.IsInf(epsilon, 0) || epsilon <= 0 {
		return Scale{}, fmt.Errorf("noise scale: epsilon %g, want a positive finite number", epsilon)
	}
	return scaleOf(new(big.Rat).SetFloat64(epsilon), sensitivity)
}

// scaleOf is NewScale for an exact epsilon (Split passes shares of the
// budget as rationals, so that the shares add up to the budget exactly).
func scaleOf(epsilon *big.Rat, sensitivity uint64) (Scale, error) {
	if sensitivity == 0 {
		return Scale{}, fmt.Errorf("noise scale: sensitivity 0, want at least 1")
	}
	if epsilon.Sign() <= 0 {
		return Scale{}, fmt.Errorf("noise scale: epsilon %s, want a positive number", epsilon.FloatString(6))
	}
	// num = ⌊ε·2^40/Δ⌋; Quo truncates, and both operands are positive.
	n := new(big.Int).Lsh(epsilon.Num(), gammaBits)
	d := new(big.Int).Mul(epsilon.Denom(), new(big.Int).SetUint64(sensitivity))
	n.Quo(n, d)
	eps, _ := epsilon.Float64()
	switch {
	case n.Cmp(big.NewInt(minGammaNum)) < 0:
		return Scale{}, fmt.Errorf("noise scale: epsilon %.4g over sensitivity %d is below 2^-%d: the noise would drown every value; raise epsilon or lower the bound", eps, sensitivity, gammaBits)
	case n.Cmp(big.NewInt(maxGammaNum)) > 0:
		return Scale{}, fmt.Errorf("noise scale: epsilon %.4g over sensitivity %d is above 2^20: that is no noise at all", eps, sensitivity)
	}
	return Scale{mech: Laplace, num: n.Uint64()}, nil
}

// Mechanism is the distribution family of the noise.
func (s Scale) Mechanism() Mechanism { return s.mech }

// Gamma is ε/Δ as the sampler uses it: a multiple of 2^-40, at most the
// ε/Δ asked for and less than 2^-40 below it. It is exact.
func (s Scale) Gamma() float64 { return float64(s.num) / (1 << gammaBits) }

// A is the ratio a = exp(-Gamma) of the distribution.
func (s Scale) A() float64 { return math.Exp(-s.Gamma()) }

// Variance is the variance of the noise (its mean is 0): 2a/(1-a)² for
// the discrete Laplace, and for the discrete Gaussian Σ z²·P(z), which is
// below Sigma2 (CKS, Prop. 5).
func (s Scale) Variance() float64 {
	if s.mech == Gaussian {
		return gaussianVariance(s.Sigma2())
	}
	oneMinusA := -math.Expm1(-s.Gamma()) // 1-a without cancellation for small γ
	return 2 * s.A() / (oneMinusA * oneMinusA)
}

// String is for logs and test failures.
func (s Scale) String() string {
	if s.mech == Gaussian {
		return fmt.Sprintf("discrete Gaussian(sigma^2=%g)", s.Sigma2())
	}
	return fmt.Sprintf("discrete Laplace(a=exp(-%g))", s.Gamma())
}
