package privacy

import "math"

// sigma2Bits is the fixed-point precision of a Gaussian Scale's σ²: it is
// held as the integer num = ⌈σ²·2^sigma2Bits⌉, rounded up so that the
// noise is never smaller than the budget asks for.
const sigma2Bits = 16

// Range of a Gaussian Scale's σ². Below 1/16 the noise is 0 with
// probability above 1 - 10^-3: no noise, a misconfiguration. Above 2^40
// (σ ≈ 10^6) it drowns any count; the bound also keeps every product of
// the acceptance test within 128 bits (discreteGaussian).
const (
	minSigma2Num = 1 << (sigma2Bits - 4)
	maxSigma2Num = 1 << (40 + sigma2Bits)
)

// gaussianReject is where discreteGaussian gives up on a proposal as
// certainly rejected: |Y|·t ≥ 2^48. Its acceptance probability there is
// exp(-(|Y|-σ²/t)²/(2σ²)) < exp(-2^14) for every σ² ≤ 2^40 (|Y| ≥ 2^48/t
// ≥ 2^27.9 while σ ≤ 2^20), so rejecting it outright changes no
// probability by more than exp(-2^14): never, like the caps of K in
// bernoulliExpFrac.
const gaussianReject = 1 << 48

// discreteGaussian draws Z with P(Z=z) ∝ exp(-z²/(2σ²)), σ² = num/2^16,
// t = ⌊σ⌋+1, exactly: Canonne, Kamath and Steinke, "The Discrete Gaussian
// for Differential Privacy" (NeurIPS 2020), Algorithm 3. Integer
// arithmetic only (u128.go), so the same bits give the same Z on every
// machine; no allocation.
//
//   - Y is discrete Laplace with scale t: U uniform on [0, t), kept with
//     probability exp(-U/t), V with P(V ≥ v) = e^-v, X = U + t·V, a fair
//     sign, rejecting (negative, 0);
//   - Y is kept with probability exp(-(|Y| - σ²/t)²/(2σ²)), which turns
//     the Laplace into the Gaussian. With σ² = num/2^16 the exponent is
//     A²/B with A = ||Y|·t·2^16 - num| and B = 2^17·num·t².
//
// The expected number of proposals is below 2 for every σ (CKS, Thm. 3).
func (s *stream) discreteGaussian(num, t uint64) int64 {
	tt := u128{0, t}
	for {
		u := uint64(s.below(uint32(t)))
		if !s.bernoulliExpRat(u128{0, u}, tt) {
			continue
		}
		var v uint64
		for s.bernoulliExpMinus1() {
			v++
		}
		y := u + t*v
		negative := s.bit()
		if negative && y == 0 {
			continue
		}
		if y >= gaussianReject/t {
			continue // see gaussianReject
		}
		yt := y * t << sigma2Bits // < 2^64
		var a uint64
		if yt >= num {
			a = yt - num
		} else {
			a = num - yt
		}
		if !s.bernoulliExpQuo(mul64(a, a), num, t) {
			continue
		}
		if negative {
			return -int64(y)
		}
		return int64(y)
	}
}

// bernoulliExpQuo returns true with probability exp(-a2/B), B =
// 2^17·num·t² (the acceptance test of discreteGaussian): CKS Algorithm 1
// for γ > 1, ⌊γ⌋ trials of Bernoulli(e^-1) and then one of
// Bernoulli(exp(-(γ - ⌊γ⌋))). Floors of nested quotients compose
// (⌊⌊x/a⌋/b⌋ = ⌊x/(ab)⌋), so ⌊γ⌋ takes three 128-by-64-bit divisions.
// With ⌊γ⌋ ≥ 2^32 it returns false: the probability of true is then below
// exp(-2^32).
func (s *stream) bernoulliExpQuo(a2 u128, num, t uint64) bool {
	q, _ := a2.divmod64(t)
	q, _ = q.divmod64(t)
	q, _ = q.shr(sigma2Bits + 1).divmod64(num)
	if q.hi != 0 || q.lo >= math.MaxUint32 {
		return false
	}
	// B < 2^17·2^56·2^41 = 2^114 and q·B ≤ a2 < 2^128: both fit.
	b := mul64(num<<1, t).mulSmall(t)
	b = u128{b.hi<<(sigma2Bits) | b.lo>>(64-sigma2Bits), b.lo << sigma2Bits}
	r := a2.sub(b.mulSmall(q.lo))
	for range q.lo {
		if !s.bernoulliExpMinus1() {
			return false
		}
	}
	return s.bernoulliExpRat(r, b)
}

// bernoulliExpRat returns true with probability exp(-r/d), 0 ≤ r < d:
// CKS Algorithm 1, like bernoulliExpFrac but for any rational below 1. K
// counts up while Bernoulli(r/(d·K)) succeeds, drawn as Bernoulli(r/d) and
// Bernoulli(1/K); P(K odd) = e^(-r/d). K stops at 2^32-1 (never reached).
func (s *stream) bernoulliExpRat(r, d u128) bool {
	k := uint32(1)
	for k < math.MaxUint32 && s.bernoulliRat(r, d) && (k == 1 || s.below(k) == 0) {
		k++
	}
	return k&1 == 1
}

// bernoulliRat returns true with probability r/d, r ≤ d, d ≥ 1.
func (s *stream) bernoulliRat(r, d u128) bool {
	if r.isZero() {
		return false
	}
	return s.belowU128(d).less(r)
}

// belowU128 returns a uniform integer in [0, n), n ≥ 1: bitLen(n) fair
// bits, rejected while they reach n (each round accepts with probability
// above 1/2).
func (s *stream) belowU128(n u128) u128 {
	l := n.bitLen()
	for {
		var x u128
		switch {
		case l <= 32:
			x.lo = s.take(l)
		case l <= 64:
			x.lo = s.take(32) | s.take(l-32)<<32
		default:
			x.lo = s.take(32) | s.take(32)<<32
			x.hi = s.take(l - 64)
		}
		if x.less(n) {
			return x
		}
	}
}
