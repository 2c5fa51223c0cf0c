package privacy

import (
	"math"
	"testing"
)

func TestEpsilonOf(t *testing.T) {
	for _, c := range []struct{ rho, delta float64 }{
		{0.4, 1e-8}, {0.017, 1e-8}, {0.1, 1e-6}, {1, 1e-10}, {5, 1e-5}, {1e-4, 1e-9}, {0.4 * 7, 1e-8},
	} {
		eps := EpsilonOf(c.rho, c.delta)
		bs := BunSteinkeEpsilon(c.rho, c.delta)
		if !(eps > 0) || eps > bs {
			t.Errorf("EpsilonOf(%g, %g) = %g, want in (0, Bun–Steinke %g]", c.rho, c.delta, eps, bs)
		}
		// The conversion is an inverse pair: DeltaOf at that ε gives δ back.
		if d := DeltaOf(c.rho, eps); math.Abs(math.Log(d/c.delta)) > 1e-6 {
			t.Errorf("DeltaOf(%g, EpsilonOf = %g) = %g, want %g", c.rho, eps, d, c.delta)
		}
		// It is sound: never below the exact curve of the Gaussian, which
		// is ρ-zCDP; and close to it (the slack of a zCDP bound is small).
		if g := GaussianDelta(c.rho, eps); g > c.delta*(1+1e-9) || g < c.delta/20 {
			t.Errorf("ρ=%g ε=%g: Gaussian curve δ %g, want in [δ/20, δ=%g]", c.rho, eps, g, c.delta)
		}
	}
	// Pinned: the default daily release (ρ = 0.4, δ = 10^-8).
	if got := EpsilonOf(0.4, 1e-8); math.Abs(got-5.38) > 0.005 {
		t.Errorf("EpsilonOf(0.4, 1e-8) = %.4f, want 5.38", got)
	}
}

func TestDeltaOfMonotone(t *testing.T) {
	prev := 1.0
	for eps := 0.5; eps <= 10; eps += 0.5 {
		d := DeltaOf(0.4, eps)
		if !(d <= prev) || d < GaussianDelta(0.4, eps)*(1-1e-9) {
			t.Errorf("DeltaOf(0.4, %g) = %g: not decreasing (previous %g) or below the Gaussian curve %g", eps, d, prev, GaussianDelta(0.4, eps))
		}
		prev = d
	}
	if DeltaOf(0, 1) != 0 || EpsilonOf(0, 1e-8) != 0 {
		t.Error("ρ = 0 must cost nothing")
	}
}

// TestComposition is the closed form the ledger relies on: zCDP adds, so
// n releases of ρ are one of nρ, and the Gaussian of nρ is exactly n
// Gaussians of ρ (variances add as 1/σ²).
func TestComposition(t *testing.T) {
	s, err := NewGaussianScale(0.05, 6)
	if err != nil {
		t.Fatal(err)
	}
	one := s.Rho(6)
	if got := EpsilonOf(8*one, 1e-8); math.Abs(got-EpsilonOf(0.4, 1e-8)) > 1e-3 {
		t.Errorf("8 releases of ρ %g: ε %g, want that of ρ 0.4", one, got)
	}
	l, _ := NewScale(1, 1)
	if r := l.Rho(1); math.Abs(r-0.5) > 1e-9 {
		t.Errorf("Laplace ε=1 as zCDP: ρ %g, want ε²/2 = 0.5", r)
	}
}
