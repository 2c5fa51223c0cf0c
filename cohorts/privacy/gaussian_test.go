package privacy

import (
	"crypto/sha256"
	"fmt"
	"math"
	"slices"
	"testing"
)

// Statistical tests of the discrete Gaussian sampler, deterministic like
// those of the Laplace (laplace_test.go): same tolerances (5 standard
// errors, 7 for the chi-square).

func testGaussianScale(t testing.TB, sigma2 float64) Scale {
	t.Helper()
	s, err := NewGaussianScale(1/(2*sigma2), 1) // σ² = 1/(2ρ) with Δ₂² = 1
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestDiscreteGaussianDistribution(t *testing.T) {
	t.Parallel()
	for i, sigma2 := range []float64{0.25, 3, 100, 90000} {
		t.Run(fmt.Sprintf("sigma2=%g", sigma2), func(t *testing.T) {
			t.Parallel()
			n := statsCount()
			if sigma2 == 100 && !testing.Short() {
				n = 1_000_000 // the 10^6 draws, on one σ
			}
			scale := testGaussianScale(t, sigma2)
			checkDist(t, draws(t, n, scale, 100+i), gaussianPMF(scale.Sigma2()))
		})
	}
}

// exactPMF is a distribution on [-len(p)+1, len(p)-1], symmetric:
// p[|z|] = P(Z=z).
type exactPMF []float64

func (p exactPMF) at(z int64) float64 {
	if z < 0 {
		z = -z
	}
	if z >= int64(len(p)) {
		return 0
	}
	return p[z]
}

// cdf is P(Z ≤ z).
func (p exactPMF) cdf(z int64) float64 {
	lim := int64(len(p)) - 1
	var c float64
	if z < 0 {
		for x := -z; x <= lim; x++ {
			c += p[x]
		}
		return c
	}
	return 1 - p.cdf(-z-1)
}

// gaussianPMF is the exact discrete Gaussian pmf, normalised over |z| ≤
// 40σ (the rest is below e^-800).
func gaussianPMF(sigma2 float64) exactPMF {
	lim := int(40*math.Sqrt(sigma2)) + 2
	p := make(exactPMF, lim+1)
	norm := 0.0
	for z := range p {
		p[z] = math.Exp(-float64(z*z) / (2 * sigma2))
		norm += p[z]
		if z > 0 {
			norm += p[z]
		}
	}
	for z := range p {
		p[z] /= norm
	}
	return p
}

// checkDist asserts that zs look like draws from p: mean, variance,
// P(Z=0), P(Z>0), tails P(|Z| ≥ m) near 0.5, 0.1, 0.01, 0.001, and a
// chi-square over the 40-quantile bins.
func checkDist(t *testing.T, zs []int64, p exactPMF) {
	t.Helper()
	var variance, m4 float64
	for z := 1; z < len(p); z++ {
		f := float64(z)
		variance += 2 * p[z] * f * f
		m4 += 2 * p[z] * f * f * f * f
	}
	zeros, positive, sampleVar := checkMoments(t, zs, variance, m4)
	checkFreq(t, "P(Z=0)", zeros, len(zs), p[0])
	checkFreq(t, "P(Z>0)", positive, len(zs), (1-p[0])/2)
	for _, target := range []float64{0.5, 0.1, 0.01, 0.001} {
		m := int64(1)
		for 2*(1-p.cdf(m-1)) > target && m < int64(len(p)) {
			m++
		}
		tail := 0
		for _, z := range zs {
			if z >= m || z <= -m {
				tail++
			}
		}
		checkFreq(t, fmt.Sprintf("P(|Z| ≥ %d)", m), tail, len(zs), 2*(1-p.cdf(m-1)))
	}
	chi2, bins := chiSquare(zs, p)
	df := float64(bins - 1)
	if limit := df + 7*math.Sqrt(2*df); chi2 > limit {
		t.Errorf("chi-square %.1f over %d bins, want below %.1f", chi2, bins, limit)
	}
	if bins < 3 {
		t.Errorf("chi-square over %d bins only", bins)
	}
	t.Logf("%d draws: variance %.5g (exact %.5g), chi-square %.1f over %d bins", len(zs), sampleVar, variance, chi2, bins)
}

// chiSquare bins zs at the 40-quantiles of p and at -3…2, merging bins
// that expect fewer than 20 draws (as checkChiSquare does).
func chiSquare(zs []int64, p exactPMF) (float64, int) {
	n := float64(len(zs))
	lim := int64(len(p)) - 1
	cdf := make([]float64, 2*lim+1) // cdf[z+lim] = P(Z ≤ z)
	acc := 0.0
	for z := -lim; z <= lim; z++ {
		acc += p.at(z)
		cdf[z+lim] = acc
	}
	at := func(z int64) float64 { return cdf[min(max(z, -lim), lim)+lim] }
	candidates := []int64{-3, -2, -1, 0, 1, 2}
	for q := 1; q < 40; q++ {
		z := -lim
		for at(z) < float64(q)/40 {
			z++
		}
		candidates = append(candidates, z)
	}
	slices.Sort(candidates)
	var edges []int64
	for _, e := range slices.Compact(candidates) {
		below := at(e)
		if len(edges) > 0 {
			below -= at(edges[len(edges)-1])
		}
		if n*below >= 20 {
			edges = append(edges, e)
		}
	}
	for len(edges) > 0 && n*(1-at(edges[len(edges)-1])) < 20 {
		edges = edges[:len(edges)-1]
	}
	counts := make([]int, len(edges)+1)
	for _, z := range zs {
		i, _ := slices.BinarySearch(edges, z)
		counts[i]++
	}
	var chi2 float64
	for i, c := range counts {
		lo, hi := 0.0, 1.0
		if i > 0 {
			lo = at(edges[i-1])
		}
		if i < len(edges) {
			hi = at(edges[i])
		}
		want := n * (hi - lo)
		chi2 += (float64(c) - want) * (float64(c) - want) / want
	}
	return chi2, len(counts)
}

// TestDiscreteGaussianWrongSigmaFails guards the checks' power: draws of
// σ² = 100 judged against σ² = 104 (2% more σ) must fail the chi-square.
func TestDiscreteGaussianWrongSigmaFails(t *testing.T) {
	t.Parallel()
	zs := draws(t, statsCount(), testGaussianScale(t, 100), 7)
	chi2, bins := chiSquare(zs, gaussianPMF(104))
	if df := float64(bins - 1); chi2 <= df+7*math.Sqrt(2*df) {
		t.Errorf("chi-square %.1f over %d bins: the test cannot tell σ² 100 from 104", chi2, bins)
	}
}

func TestGaussianPMFSumsToOne(t *testing.T) {
	for _, s2 := range []float64{0.25, 3, 100} {
		p := gaussianPMF(s2)
		if got := p.cdf(int64(len(p))); math.Abs(got-1) > 1e-12 {
			t.Errorf("σ²=%g: pmf sums to %.15f", s2, got)
		}
		if got, want := gaussianVariance(s2), 0.0; s2 > 1 {
			for z := 1; z < len(p); z++ {
				want += 2 * p[z] * float64(z*z)
			}
			if math.Abs(got-want) > 1e-9*want {
				t.Errorf("σ²=%g: gaussianVariance %.12g, pmf gives %.12g", s2, got, want)
			}
		}
	}
}

func TestNewGaussianScale(t *testing.T) {
	for _, c := range []struct {
		rho    float64
		l2sq   uint64
		sigma2 float64 // want, before rounding
		t      uint64
	}{
		{0.5, 1, 1, 2},
		{0.01, 43, 2150, 47},
		{0.125, 2, 8, 3},
	} {
		s, err := NewGaussianScale(c.rho, c.l2sq)
		if err != nil {
			t.Fatal(err)
		}
		if s.Mechanism() != Gaussian || s.Sigma2() < c.sigma2 || s.Sigma2() > c.sigma2+1.0/(1<<sigma2Bits) || s.t != c.t {
			t.Errorf("NewGaussianScale(%g, %d) = σ² %g t %d, want σ² %g (rounded up) t %d", c.rho, c.l2sq, s.Sigma2(), s.t, c.sigma2, c.t)
		}
		if r := s.Rho(c.l2sq); r > c.rho || r < c.rho*(1-1e-6) {
			t.Errorf("Rho = %g, want at most and near %g", r, c.rho)
		}
	}
	for _, bad := range []struct {
		rho  float64
		l2sq uint64
	}{{0, 1}, {-1, 1}, {math.NaN(), 1}, {1, 0}, {100, 1}, {1e-13, 1}} {
		if _, err := NewGaussianScale(bad.rho, bad.l2sq); err == nil {
			t.Errorf("NewGaussianScale(%g, %d): no error", bad.rho, bad.l2sq)
		}
	}
}

// TestGaussianNoiseGolden pins discrete Gaussian draws of a fixed secret,
// as TestNoiseGolden pins the Laplace's: same seeds (scope, cohort,
// slot), another sampler.
func TestGaussianNoiseGolden(t *testing.T) {
	n := testNoiser(t)
	s := Scope{Release: "spec=1;features=2", WindowStart: 1_700_000_000_000, InputDigest: sha256.Sum256([]byte("golden"))}
	for _, tt := range []struct {
		sigma2 float64
		cohort uint64
		slot   int
		want   int64
	}{
		{1, 1, SlotUsers, 1},
		{1, 2, SlotUsers, 1},
		{40, 1, 0, -2},
		{40, 1, 5, -11},
		{2500, 7, 12, 32},
		{1e+06, 99, 3, 277},
		{0.3, 99, 3, 0},
	} {
		if got := n.Noise(s, tt.cohort, tt.slot, testGaussianScale(t, tt.sigma2)); got != tt.want {
			t.Errorf("σ²=%g cohort %d slot %d: noise %d, pinned %d", tt.sigma2, tt.cohort, tt.slot, got, tt.want)
		}
	}
}
