package privacy

import (
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
	// ε = 1 per window gives the users count 0.25; with k = 50 that is
	// δ = e^-12.25/(1+e^-0.25) ≈ 2.7·10^-6.
	need := ThresholdDelta(0.25, 50)
	if math.Abs(need-2.7e-6) > 0.05e-6 {
		t.Fatalf("ThresholdDelta(0.25, 50) = %g, want ≈ 2.7e-06", need)
	}
	for _, tt := range []struct {
		delta, eps float64
		k          int
		want       string // "" for no error
	}{
		{1e-5, 1, 50, ""},
		{need, 1, 50, ""},
		{1e-9, 1, 50, "delta 1e-09 is below 2.69e-06, the probability that a cohort of one user passes the k=50 threshold when the users count gets epsilon 0.25 (25% of epsilon 1 per window)"},
		{1e-9, 1, 100, ""},
		{1e-9, 4, 50, ""},
		{0, 1, 50, "delta 0, want a probability in (0, 1)"},
		{1, 1, 50, "delta 1, want"},
		{math.NaN(), 1, 50, "delta NaN, want"},
		{0.5, 0, 50, "is below 1"},
	} {
		t.Run(fmt.Sprintf("delta=%g,eps=%g,k=%d", tt.delta, tt.eps, tt.k), func(t *testing.T) {
			err := CheckDelta(tt.delta, tt.eps, tt.k)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("err = %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
}
