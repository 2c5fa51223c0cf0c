package privacy

import (
	"math"
	"testing"

	"github.com/cohortline/cohortline/cohorts"
)

func TestSplitZCDP(t *testing.T) {
	spec := cohorts.DefaultSpec() // daily, ρ 0.4, events 25, call seconds 600
	z, err := SplitZCDP(spec)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		slots     int
		l1, l2sq  uint64
		mechanism Mechanism
		weight    float64
	}{
		"users":              {1, 5, 5, Gaussian, 30},
		"reach":              {25, 25, 25, Gaussian, 25},
		"sum.kind":           {7, 25, 625, Gaussian, 20},
		"sum.category_group": {7, 25, 625, Gaussian, 10},
		"hist":               {5, 1, 1, Gaussian, 10},
		"sum.call_seconds":   {1, 600, 360000, Gaussian, 5},
	}
	var total float64
	slots := 0
	for _, b := range z.Blocks {
		w := want[b.Name]
		if len(b.Slots) != w.slots || b.L1 != w.l1 || b.L2Squared != w.l2sq || b.Mechanism != w.mechanism || b.Weight != w.weight {
			t.Errorf("block %s: %d slots, L1 %d, L2² %d, %s, weight %g; want %+v", b.Name, len(b.Slots), b.L1, b.L2Squared, b.Mechanism, b.Weight, w)
		}
		// σ² = L2²/(2ρ_b), rounded up by at most 2^-16.
		if s2 := float64(b.L2Squared) / (2 * b.RhoShare); b.Scale.Sigma2() < s2 || b.Scale.Sigma2() > s2+1.0/(1<<16) {
			t.Errorf("block %s: σ² %g, want %g", b.Name, b.Scale.Sigma2(), s2)
		}
		if b.Rho > b.RhoShare || b.Rho < b.RhoShare*(1-1e-6) {
			t.Errorf("block %s: ρ %g, want at most and near its share %g", b.Name, b.Rho, b.RhoShare)
		}
		total += b.Rho
		if b.Name != "users" {
			slots += len(b.Slots)
		}
	}
	if slots != cohorts.MustFeatureSet(2).Len() {
		t.Errorf("blocks cover %d slots, feature set 2 has %d", slots, cohorts.MustFeatureSet(2).Len())
	}
	if total > 0.4 || total < 0.4*(1-1e-6) || z.RhoSpent() != total {
		t.Errorf("blocks spend ρ %g (RhoSpent %g), want at most and near 0.4", total, z.RhoSpent())
	}
	// reach: weight 25 of 100, σ² = 25/(2·0.1) = 125.
	if s, _ := z.Scale(0); math.Abs(s.Sigma2()-125) > 1e-4 {
		t.Errorf("reach σ² %g, want 125", s.Sigma2())
	}
	// The k threshold: a lone user reaches k=50 with probability far
	// below 10^-8 at the users' σ² = 5/(2·0.12) ≈ 20.8.
	if d := z.ReleaseDelta(spec.K); !(d > 0 && d < 1e-20) {
		t.Errorf("ReleaseDelta = %g, want in (0, 1e-20)", d)
	}
}

func TestSplitZCDPOffAndLaplace(t *testing.T) {
	spec := cohorts.DefaultSpec()
	spec.Privacy.Blocks = map[string]cohorts.BlockBudget{
		"sum.call_seconds": {Off: true},
		"hist":             {Mechanism: "laplace", Weight: 15},
	}
	z, err := SplitZCDP(spec)
	if err != nil {
		t.Fatal(err)
	}
	fs := cohorts.MustFeatureSet(2)
	if _, on := z.Scale(fs.CallSlot()); on {
		t.Error("call seconds: off block has a scale")
	}
	hist := z.Blocks[4]
	// weights 30+25+20+10+15 = 100: hist ρ 0.06, ε = sqrt(0.12).
	if hist.Mechanism != Laplace || math.Abs(hist.Epsilon-math.Sqrt(0.12)) > 1e-9 || hist.Rho > 0.06 {
		t.Errorf("hist: %s ε %g ρ %g, want laplace ε %g ρ ≤ 0.06", hist.Mechanism, hist.Epsilon, hist.Rho, math.Sqrt(0.12))
	}
	if z.RhoSpent() > 0.4 {
		t.Errorf("spent ρ %g over 0.4", z.RhoSpent())
	}
	spec.FeatureSet, spec.Privacy.Blocks = 1, nil
	if _, err := SplitZCDP(spec); err == nil {
		t.Error("feature set 1: no error")
	}
}

func TestThresholdDeltaOf(t *testing.T) {
	s, _ := NewGaussianScale(0.5, 1) // σ² = 1
	// P(Z ≥ 1) for σ² = 1 from the pmf.
	p := gaussianPMF(1)
	want := (1 - p[0]) / 2
	if got := ThresholdDeltaOf(s, 2); math.Abs(got-want) > 1e-12 {
		t.Errorf("P(Z ≥ 1) = %g, want %g", got, want)
	}
	l, _ := NewScale(0.4, 1)
	if got, want := ThresholdDeltaOf(l, 50), ThresholdDelta(0.4, 50); got != want {
		t.Errorf("Laplace: %g, want ThresholdDelta %g", got, want)
	}
}
