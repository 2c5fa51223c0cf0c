package privacy

import "math"

// discreteLaplace draws Z with P(Z=z) = (1-a)/(1+a)·a^|z|, a = exp(-γ),
// γ = num/2^40 (a Scale), exactly: Canonne, Kamath and Steinke, "The
// Discrete Gaussian for Differential Privacy" (NeurIPS 2020), Algorithm 2
// with s = num, t = 2^40. Integer arithmetic only, so the same bits give
// the same Z on every machine.
//
//   - U uniform on [0, t), kept with probability exp(-U/t), and V with
//     P(V ≥ v) = e^-v give X = U + t·V with P(X=x) ∝ exp(-x/t);
//   - Y = ⌊X/s⌋ then has P(Y=y) ∝ exp(-y·s/t) = a^y, geometric;
//   - a fair sign, rejecting (negative, Y=0) so that 0 is not counted
//     twice, gives the two-sided distribution.
//
// A round is accepted with probability 1-1/e ≈ 0.63 at the U step, then
// 1/(1+a) or more at the sign step.
func (s *stream) discreteLaplace(num uint64) int64 {
	for {
		u := s.take(gammaBits)
		if !s.bernoulliExpFrac(u) {
			continue
		}
		var v uint64
		for s.bernoulliExpMinus1() {
			v++
		}
		y := (u + v<<gammaBits) / num
		negative := s.bit()
		switch {
		case negative && y == 0:
			continue
		case negative:
			return -int64(y)
		}
		return int64(y)
	}
}

// bernoulliExpFrac returns true with probability exp(-u/t), u < t =
// 2^40: CKS Algorithm 1. With γ = u/t < 1, K counts up while
// Bernoulli(γ/K) succeeds; P(K ≥ k) = γ^(k-1)/(k-1)!, so
// P(K odd) = Σ (-γ)^j/j! = e^-γ. Bernoulli(u/(k·t)) is drawn as
// Bernoulli(u/t) and Bernoulli(1/k).
//
// K stops at 2^32-1 so that it cannot overflow; it gets there with
// probability below 1/(2^32-2)!, that is never.
func (s *stream) bernoulliExpFrac(u uint64) bool {
	k := uint32(1)
	for k < math.MaxUint32 && s.take(gammaBits) < u && (k == 1 || s.below(k) == 0) {
		k++
	}
	return k&1 == 1
}

// bernoulliExpMinus1 returns true with probability e^-1: CKS Algorithm 1
// with γ = 1, whose first trial (Bernoulli(1/1)) always succeeds. K stops
// at 2^32-1, as in bernoulliExpFrac.
func (s *stream) bernoulliExpMinus1() bool {
	if !s.bit() { // Bernoulli(1/2)
		return false // K = 2
	}
	k := uint32(3)
	for k < math.MaxUint32 && s.below(k) == 0 { // Bernoulli(1/k)
		k++
	}
	return k&1 == 1
}
