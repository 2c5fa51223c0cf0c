package privacy

import (
	"fmt"
	"math"
	"slices"
	"testing"
)

// Statistical tests of the sampler. The draws are deterministic (fixed
// secret), so these tests cannot flake: they pass or fail for good. Each
// tolerance is 5 standard errors of the statistic under the exact
// distribution (7 for the chi-square, whose tail is heavier), so a correct
// sampler passes for any secret with probability above 1 - 10^-5, while
// an error in a, in the sign or at 0 of a few percent fails.

// testNoiser is a Noiser under a fixed test secret.
func testNoiser(t testing.TB) *Noiser {
	t.Helper()
	n, err := NewNoiser([]byte("test-secret-0123456789abcdef0123"))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func testScale(t testing.TB, gamma float64) Scale {
	t.Helper()
	s, err := NewScale(gamma, 1)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// draws returns n draws of scale, each with a distinct seed: the cohort
// id varies, the rest is fixed.
func draws(t testing.TB, n int, scale Scale, slot int) []int64 {
	nz := testNoiser(t)
	s := Scope{Release: "test", WindowStart: 1_700_000_000_000}
	out := make([]int64, n)
	for i := range out {
		out[i] = nz.Noise(s, uint64(i), slot, scale)
	}
	return out
}

// statsCount is the number of draws per distribution test.
func statsCount() int {
	if testing.Short() {
		return 50_000
	}
	return 200_000
}

func TestDiscreteLaplaceDistribution(t *testing.T) {
	t.Parallel()
	for i, gamma := range []float64{0.001, 0.1, 0.5, 1, 2} {
		t.Run(fmt.Sprintf("eps/delta=%g", gamma), func(t *testing.T) {
			t.Parallel()
			scale := testScale(t, gamma)
			n := statsCount()
			if gamma == 0.1 && !testing.Short() {
				n = 1_000_000 // the 10^6 draws, on one scale
			}
			checkLaplace(t, draws(t, n, scale, i), scale)
		})
	}
}

// pmf is P(Z=z) of discrete Laplace with ratio a.
func pmf(a float64, z int64) float64 {
	return (1 - a) / (1 + a) * math.Pow(a, math.Abs(float64(z)))
}

// cdf is P(Z ≤ z): a^-z/(1+a) for z < 0, 1 - a^(z+1)/(1+a) for z ≥ 0.
func cdf(a float64, z int64) float64 {
	if z < 0 {
		return math.Pow(a, float64(-z)) / (1 + a)
	}
	return 1 - math.Pow(a, float64(z+1))/(1+a)
}

// fourthMoment is E[Z^4], summed from the pmf.
func fourthMoment(a float64) float64 {
	var m float64
	for z := int64(1); ; z++ {
		p := pmf(a, z)
		m += 2 * p * math.Pow(float64(z), 4)
		if p < 1e-300 || (z > 10 && 2*p*math.Pow(float64(z), 4) < 1e-18*m) {
			return m
		}
	}
}

// checkLaplace asserts that zs look like draws from scale: mean, variance,
// P(Z=0), P(Z>0), tails P(|Z| ≥ m), and a chi-square over ~40 bins.
// checkMoments asserts that zs, draws of a distribution symmetric about
// 0 with this variance and fourth moment, have a mean of 0 and that
// variance within 5 standard errors (the sample variance's is
// sqrt((μ4 - σ⁴)/n)); it returns how many draws are 0 and how many
// positive, for the caller's frequency checks, and the sample variance.
func checkMoments(t *testing.T, zs []int64, variance, m4 float64) (zeros, positive int, sampleVar float64) {
	t.Helper()
	n := float64(len(zs))
	var sum, sumSq float64
	for _, z := range zs {
		f := float64(z)
		sum += f
		sumSq += f * f
		switch {
		case z == 0:
			zeros++
		case z > 0:
			positive++
		}
	}
	mean := sum / n
	if se := math.Sqrt(variance / n); math.Abs(mean) > 5*se {
		t.Errorf("mean %.4g, want 0 ± %.3g (5 s.e.)", mean, 5*se)
	}
	sampleVar = sumSq/n - mean*mean
	if se := math.Sqrt((m4 - variance*variance) / n); math.Abs(sampleVar-variance) > 5*se {
		t.Errorf("variance %.6g, want %.6g ± %.3g (5 s.e.)", sampleVar, variance, 5*se)
	}
	return zeros, positive, sampleVar
}

func checkLaplace(t *testing.T, zs []int64, scale Scale) {
	t.Helper()
	a := scale.A()
	zeros, positive, _ := checkMoments(t, zs, scale.Variance(), fourthMoment(a))
	checkFreq(t, "P(Z=0)", zeros, len(zs), (1-a)/(1+a))
	checkFreq(t, "P(Z>0)", positive, len(zs), a/(1+a))
	for _, target := range []float64{0.5, 0.1, 0.01} {
		// m with P(|Z| ≥ m) = 2a^m/(1+a) near target.
		m := max(1, int64(math.Round(math.Log(target*(1+a)/2)/math.Log(a))))
		tail := 0
		for _, z := range zs {
			if z >= m || z <= -m {
				tail++
			}
		}
		checkFreq(t, fmt.Sprintf("P(|Z| ≥ %d)", m), tail, len(zs), 2*math.Pow(a, float64(m))/(1+a))
	}
	checkChiSquare(t, zs, a)
}

// checkFreq asserts that count of n is p·n within 5 binomial standard
// errors.
func checkFreq(t *testing.T, what string, count, n int, p float64) {
	t.Helper()
	got := float64(count) / float64(n)
	if se := math.Sqrt(p * (1 - p) / float64(n)); math.Abs(got-p) > 5*se {
		t.Errorf("%s = %.5f, want %.5f ± %.5f (5 s.e.)", what, got, p, 5*se)
	}
}

// checkChiSquare bins zs at the 40-quantiles of the distribution and at
// -3…2 (so that a narrow distribution still has bins around 0), merging
// bins that expect fewer than 20 draws, and compares the chi-square
// statistic with df + 7·sqrt(2·df): for df ≈ 40 a correct sampler exceeds
// that with probability about 10^-7.
func checkChiSquare(t *testing.T, zs []int64, a float64) {
	t.Helper()
	n := float64(len(zs))
	candidates := []int64{-3, -2, -1, 0, 1, 2}
	limit := int64(60/-math.Log(a)) + 1
	for q := 1; q < 40; q++ {
		lo, hi := -limit, limit // the smallest z with cdf(z) ≥ q/40
		for lo < hi {
			mid := lo + (hi-lo)/2
			if cdf(a, mid) >= float64(q)/40 {
				hi = mid
			} else {
				lo = mid + 1
			}
		}
		candidates = append(candidates, lo)
	}
	slices.Sort(candidates)
	// Bin i is (edges[i-1], edges[i]]; the first is (-∞, edges[0]], the
	// last (edges[len-1], ∞).
	var edges []int64
	for _, e := range slices.Compact(candidates) {
		below := cdf(a, e)
		if len(edges) > 0 {
			below -= cdf(a, edges[len(edges)-1])
		}
		if n*below >= 20 {
			edges = append(edges, e)
		}
	}
	for len(edges) > 0 && n*(1-cdf(a, edges[len(edges)-1])) < 20 {
		edges = edges[:len(edges)-1]
	}
	counts := make([]int, len(edges)+1)
	for _, z := range zs {
		i, _ := slices.BinarySearch(edges, z) // the first edge ≥ z
		counts[i]++
	}
	var chi2 float64
	for i, c := range counts {
		lo, hi := 0.0, 1.0
		if i > 0 {
			lo = cdf(a, edges[i-1])
		}
		if i < len(edges) {
			hi = cdf(a, edges[i])
		}
		want := n * (hi - lo)
		chi2 += (float64(c) - want) * (float64(c) - want) / want
	}
	df := float64(len(counts) - 1)
	if limit := df + 7*math.Sqrt(2*df); chi2 > limit {
		t.Errorf("chi-square %.1f over %d bins, want below %.1f", chi2, len(counts), limit)
	}
	t.Logf("%d draws: chi-square %.1f over %d bins", len(zs), chi2, len(counts))
	if len(counts) < 3 {
		t.Errorf("chi-square over %d bins only", len(counts))
	}
}

// TestPMFSumsToOne guards the test's own formulas: the pmf sums to 1,
// and the cdf and tail formulas agree with it.
func TestPMFSumsToOne(t *testing.T) {
	for _, a := range []float64{math.Exp(-0.1), math.Exp(-1), math.Exp(-5)} {
		var total float64
		for z := int64(-2000); z <= 2000; z++ {
			total += pmf(a, z)
		}
		if math.Abs(total-1) > 1e-12 {
			t.Errorf("a=%g: pmf sums to %.15f", a, total)
		}
		var below float64
		for z := int64(-2000); z <= 3; z++ {
			below += pmf(a, z)
		}
		if got := cdf(a, 3); math.Abs(got-below) > 1e-12 {
			t.Errorf("a=%g: cdf(3) = %.15f, pmf sum %.15f", a, got, below)
		}
	}
}
