package privacy

import (
	"fmt"
	"math"
	"math/big"
)

// NewGaussianScale returns the discrete Gaussian noise of a slot in a
// block with zCDP budget rho and squared L2 sensitivity l2Squared (the
// most Σ (change of slot)² one user can make over the block's slots):
// σ² = l2Squared/(2·rho), rounded up exactly to a multiple of 2^-16, so
// that the block's ρ (Rho) never exceeds rho.
func NewGaussianScale(rho float64, l2Squared uint64) (Scale, error) {
	if math.IsNaN(rho) || math.IsInf(rho, 0) || rho <= 0 {
		return Scale{}, fmt.Errorf("noise scale: rho %g, want a positive finite number", rho)
	}
	return gaussianScaleOf(new(big.Rat).SetFloat64(rho), l2Squared)
}

// gaussianScaleOf is NewGaussianScale for an exact rho (SplitZCDP passes
// shares of the budget as rationals).
func gaussianScaleOf(rho *big.Rat, l2Squared uint64) (Scale, error) {
	if l2Squared == 0 {
		return Scale{}, fmt.Errorf("noise scale: sensitivity 0, want at least 1")
	}
	if rho.Sign() <= 0 {
		return Scale{}, fmt.Errorf("noise scale: rho %s, want a positive number", rho.FloatString(6))
	}
	// num = ⌈Δ²·2^16/(2ρ)⌉ = ⌈Δ²·2^15·den/num_ρ⌉.
	n := new(big.Int).Mul(new(big.Int).SetUint64(l2Squared), rho.Denom())
	n.Lsh(n, sigma2Bits-1)
	d := rho.Num()
	q, r := new(big.Int).QuoRem(n, d, new(big.Int))
	if r.Sign() != 0 {
		q.Add(q, big.NewInt(1))
	}
	r64, _ := rho.Float64()
	switch {
	case q.Cmp(big.NewInt(minSigma2Num)) < 0:
		return Scale{}, fmt.Errorf("noise scale: rho %.4g with squared L2 sensitivity %d gives sigma^2 below 1/16: that is no noise at all", r64, l2Squared)
	case q.Cmp(big.NewInt(maxSigma2Num)) > 0:
		return Scale{}, fmt.Errorf("noise scale: rho %.4g with squared L2 sensitivity %d gives sigma^2 above 2^40: the noise would drown every value; raise rho or lower the bound", r64, l2Squared)
	}
	return gaussianScale(q.Uint64()), nil
}

// gaussianScale is the Gaussian Scale of σ² = num/2^16: t = ⌊σ⌋+1 =
// ⌊isqrt(num)/2^8⌋+1, exactly.
func gaussianScale(num uint64) Scale {
	r := uint64(math.Sqrt(float64(num)))
	for r*r > num {
		r--
	}
	for (r+1)*(r+1) <= num {
		r++
	}
	return Scale{mech: Gaussian, num: num, t: r>>(sigma2Bits/2) + 1}
}

// Sigma2 is the σ² parameter of a Gaussian Scale as the sampler uses it
// (a multiple of 2^-16, at least the σ² asked for); 0 for Laplace.
func (s Scale) Sigma2() float64 {
	if s.mech != Gaussian {
		return 0
	}
	return float64(s.num) / (1 << sigma2Bits)
}

// Rho is the zCDP ρ of one block noised with s whose sensitivity is
// sensitivity: Δ₂²/(2σ²) for the Gaussian (sensitivity is Δ₂²), and
// ε²/2 with ε = Gamma·Δ₁ for the Laplace (sensitivity is Δ₁; pure ε-DP
// is (ε²/2)-zCDP, Bun and Steinke 2016, Prop. 1.4).
func (s Scale) Rho(sensitivity uint64) float64 {
	if s.mech == Gaussian {
		return float64(sensitivity) / (2 * s.Sigma2())
	}
	e := s.Gamma() * float64(sensitivity)
	return e * e / 2
}

// gaussianVariance is Σ z²·exp(-z²/(2σ²)) / Σ exp(-z²/(2σ²)). Above
// σ² = 100 it is σ² to within a relative 10^-800 (the Poisson summation
// term exp(-2π²σ²)), below that it is summed over |z| ≤ 40σ+1.
func gaussianVariance(sigma2 float64) float64 {
	if sigma2 > 100 {
		return sigma2
	}
	limit := int(40*math.Sqrt(sigma2)) + 1
	norm, m2 := 1.0, 0.0
	for z := 1; z <= limit; z++ {
		p := math.Exp(-float64(z*z) / (2 * sigma2))
		norm += 2 * p
		m2 += 2 * p * float64(z*z)
	}
	return m2 / norm
}
