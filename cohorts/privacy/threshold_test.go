package privacy

import (
	"github.com/cohortline/cohortline/cohorts"

	"fmt"
	"math"
	"strings"
	"testing"
)

// TestThresholdDelta compares ThresholdDelta with P(Z ≥ k-1) summed from
// the pmf, term by term.
func TestThresholdDelta(t *testing.T) {
	for _, eps := range []float64{0.05, 0.25, 1, 2.5} {
		for _, k := range []int{1, 2, 10, 50, 100} {
			a := testScale(t, eps).A()
			var brute float64
			for z := int64(k - 1); ; z++ {
				p := pmf(a, z)
				brute += p
				if p < 1e-20*brute {
					break
				}
			}
			got := ThresholdDelta(eps, k)
			if math.Abs(got-brute) > 1e-9*brute {
				t.Errorf("ThresholdDelta(%g, %d) = %.12g, pmf sum %.12g", eps, k, got, brute)
			}
			// For k ≥ 2, rounding γ down never makes δ smaller than the
			// nominal formula.
			if nominal := math.Pow(math.Exp(-eps), float64(k-1)) / (1 + math.Exp(-eps)); k >= 2 && got < nominal*(1-1e-12) {
				t.Errorf("ThresholdDelta(%g, %d) = %g, below the nominal %g", eps, k, got, nominal)
			}
		}
	}
	for _, tt := range []struct {
		eps float64
		k   int
	}{{0, 50}, {-1, 50}, {math.NaN(), 50}, {1, 0}} {
		if got := ThresholdDelta(tt.eps, tt.k); got != 1 {
			t.Errorf("ThresholdDelta(%g, %d) = %g, want 1", tt.eps, tt.k, got)
		}
	}
}

func TestCheckDelta(t *testing.T) {
	// ε = 1 per window gives the users counts 0.5 over 5 levels: 0.1 per
	// count; with k = 50 that is 5·e^-4.9/(1+e^-0.1) ≈ 0.0195.
	b1 := mustSplit(t, cohorts.DefaultSpec(), 1)
	need := ReleaseDelta(&b1, 50)
	if want := 5 * math.Exp(-4.9) / (1 + math.Exp(-0.1)); math.Abs(need-want) > 1e-3*want {
		t.Fatalf("ReleaseDelta(ε=1, k=50) = %g, want ≈ %g", need, want)
	}
	b4 := mustSplit(t, cohorts.DefaultSpec(), 4) // 0.4 per count: ≈ 9.2e-9
	for _, tt := range []struct {
		delta float64
		b     *Budget
		k     int
		want  string // "" for no error
	}{
		{0.05, &b1, 50, ""},
		{need, &b1, 50, ""},
		{1e-5, &b1, 50, "delta 1e-05 is below 0.0195, the probability that a group of one user passes the k=50 threshold at one of 5 generalization levels when each users count gets epsilon 0.1 (50% of epsilon 1 per window, over 5 levels)"},
		{1e-5, &b1, 200, ""},
		{1e-6, &b4, 50, ""},
		{1e-9, &b4, 50, "below 9.2"},
		{0, &b4, 50, "delta 0, want a probability in (0, 1)"},
		{1, &b4, 50, "delta 1, want"},
		{math.NaN(), &b4, 50, "delta NaN, want"},
	} {
		t.Run(fmt.Sprintf("delta=%g,eps=%g,k=%d", tt.delta, tt.b.Epsilon, tt.k), func(t *testing.T) {
			err := CheckDelta(tt.delta, tt.b, tt.k)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("err = %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func mustSplit(t *testing.T, spec cohorts.Spec, eps float64) Budget {
	t.Helper()
	b, err := Split(spec, eps)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
