package privacy

import (
	"math"
	"strings"
	"testing"
)

func TestNewScale(t *testing.T) {
	for _, tt := range []struct {
		eps     float64
		delta   uint64
		wantNum uint64
		wantErr string
	}{
		{1, 1, 1 << 40, ""},
		{0.25, 1, 1 << 38, ""},
		{1, 3, (1 << 40) / 3, ""},  // 366503875925.33… rounds down
		{0.1, 100, 1099511627, ""}, // 0.1·2^40/100 = 1099511627.776
		{1, 1 << 40, 1, ""},
		{1, 1<<40 + 1, 0, "below 2^-40"},
		{1 << 20, 1, 1 << 60, ""},
		{1<<20 + 1, 1, 0, "above 2^20"},
		{1, 0, 0, "sensitivity 0"},
		{0, 1, 0, "epsilon 0"},
		{math.NaN(), 1, 0, "epsilon NaN"},
	} {
		s, err := NewScale(tt.eps, tt.delta)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("NewScale(%g, %d): %v", tt.eps, tt.delta, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("NewScale(%g, %d): err = %v, want one containing %q", tt.eps, tt.delta, err, tt.wantErr)
		case s.num != tt.wantNum:
			t.Errorf("NewScale(%g, %d): γ·2^32 = %d, want %d", tt.eps, tt.delta, s.num, tt.wantNum)
		}
	}
}

// TestScaleVariance: Variance is 2a/(1-a)² = 1/(2·sinh²(γ/2)), also where
// 1-a cancels, and matches the pmf.
func TestScaleVariance(t *testing.T) {
	for _, g := range []float64{1e-9, 1e-6, 0.001, 0.1, 1, 5} {
		s := testScale(t, g)
		sinh := math.Sinh(s.Gamma() / 2)
		if want := 1 / (2 * sinh * sinh); math.Abs(s.Variance()-want) > 1e-12*want {
			t.Errorf("γ=%g: Variance %.15g, want 1/(2·sinh²(γ/2)) = %.15g", g, s.Variance(), want)
		}
		if g < 0.001 {
			continue
		}
		a := s.A()
		var direct float64
		for z := int64(1); z < int64(100/s.Gamma()); z++ {
			direct += 2 * float64(z) * float64(z) * pmf(a, z)
		}
		if math.Abs(s.Variance()-direct) > 1e-9*direct {
			t.Errorf("γ=%g: Variance %.12g, pmf sum %.12g", g, s.Variance(), direct)
		}
	}
}
