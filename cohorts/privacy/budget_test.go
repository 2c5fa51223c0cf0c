package privacy

import (
	"fmt"
	"math"
	"math/big"
	"slices"
	"strings"
	"testing"

	"github.com/cohortline/cohortline/cohorts"
)

func TestSplit(t *testing.T) {
	numReach := 0
	for _, f := range cohorts.FeatureSetV1() {
		if f.Kind == cohorts.FeatureReach {
			numReach++
		}
	}
	small := cohorts.DefaultSpec()
	small.Bounds = cohorts.Bounds{Events: 7, CallSeconds: 60}
	huge := cohorts.DefaultSpec()
	huge.Bounds = cohorts.Bounds{Events: 1 << 20, CallSeconds: 1 << 20}
	twoDims := cohorts.DefaultSpec()
	twoDims.Dimensions = []cohorts.Dimension{cohorts.DimCountry, cohorts.DimAge}
	twoDims.Generalize = []cohorts.Dimension{cohorts.DimAge, cohorts.DimCountry}
	for _, tt := range []struct {
		name string
		spec cohorts.Spec
		// Sensitivity of each block, in order.
		want map[string]uint64
	}{
		{"default", cohorts.DefaultSpec(), map[string]uint64{
			"users": 5, "reach": uint64(numReach),
			"sum.kind": 25, "sum.peer": 25, "sum.media": 25, "sum.category": 25,
			"hist": 1, "sum.call_seconds": 600,
		}},
		{"small bounds", small, map[string]uint64{
			"users": 5, "reach": uint64(numReach),
			"sum.kind": 7, "sum.peer": 7, "sum.media": 7, "sum.category": 7,
			"hist": 1, "sum.call_seconds": 60,
		}},
		{"two dimensions: three levels", twoDims, map[string]uint64{
			"users": 3, "reach": uint64(numReach),
			"sum.kind": 25, "sum.peer": 25, "sum.media": 25, "sum.category": 25,
			"hist": 1, "sum.call_seconds": 600,
		}},
		{"events bound above what the state applies", huge, map[string]uint64{
			"users": 5, "reach": uint64(numReach),
			"sum.kind": cohorts.MaxEventsBound, "sum.peer": cohorts.MaxEventsBound, "sum.media": cohorts.MaxEventsBound, "sum.category": cohorts.MaxEventsBound,
			"hist": 1, "sum.call_seconds": 1 << 20,
		}},
	} {
		for _, eps := range []float64{0.1, 1, 3.7, 10} {
			t.Run(fmt.Sprintf("%s/epsilon=%g", tt.name, eps), func(t *testing.T) {
				b, err := Split(tt.spec, eps)
				if err != nil {
					t.Fatal(err)
				}
				checkBudget(t, b, tt.spec, eps, tt.want)
			})
		}
	}
}

// checkBudget asserts the design of Split: the blocks and their
// sensitivities, every slot in exactly one block, UsersShare to users and
// equal shares to the rest, shares adding up to eps, and each slot's
// Scale the block's ε/Δ rounded down to a multiple of 2^-40.
func checkBudget(t *testing.T, b Budget, spec cohorts.Spec, eps float64, want map[string]uint64) {
	t.Helper()
	names := []string{"users", "reach", "sum.kind", "sum.peer", "sum.media", "sum.category", "hist", "sum.call_seconds"}
	var got []string
	for _, bl := range b.Blocks {
		got = append(got, bl.Name)
		if bl.Sensitivity != want[bl.Name] {
			t.Errorf("block %s: sensitivity %d, want %d", bl.Name, bl.Sensitivity, want[bl.Name])
		}
	}
	if !slices.Equal(got, names) {
		t.Fatalf("blocks %v, want %v", got, names)
	}
	if b.Levels != len(spec.Generalize)+1 || uint64(b.Levels) != b.Blocks[0].Sensitivity {
		t.Errorf("levels %d, users sensitivity %d; the spec has %d generalization levels", b.Levels, b.Blocks[0].Sensitivity, len(spec.Generalize)+1)
	}

	seen := map[int]string{}
	for _, bl := range b.Blocks {
		for _, slot := range bl.Slots {
			if prev, dup := seen[slot]; dup {
				t.Errorf("slot %d in blocks %s and %s", slot, prev, bl.Name)
			}
			seen[slot] = bl.Name
		}
	}
	for _, f := range cohorts.FeatureSetV1() {
		if _, ok := seen[f.Index]; !ok {
			t.Errorf("slot %d (%s) in no block", f.Index, f.Name)
		}
	}
	if len(seen) != cohorts.NumFeaturesV1()+1 {
		t.Errorf("%d slots in blocks, want %d", len(seen), cohorts.NumFeaturesV1()+1)
	}

	var sum float64
	effective := new(big.Rat)
	rest := (1 - UsersShare) * eps / float64(len(b.Blocks)-1)
	for i, bl := range b.Blocks {
		sum += bl.Epsilon
		share := rest
		if i == 0 {
			share = UsersShare * eps
		}
		if math.Abs(bl.Epsilon-share) > 1e-12*eps {
			t.Errorf("block %s: epsilon %g, want %g", bl.Name, bl.Epsilon, share)
		}
		// γ = ε/Δ rounded down, by less than 2^-40.
		g := bl.Epsilon / float64(bl.Sensitivity)
		if d := g - bl.Scale.Gamma(); d < -1e-15*g || d >= 1.0/(1<<40)+1e-15*g {
			t.Errorf("block %s: gamma %.17g, want %.17g rounded down to 2^-40", bl.Name, bl.Scale.Gamma(), g)
		}
		if a := math.Exp(-g); math.Abs(bl.Scale.A()-a) > 1e-9*a+1e-15 {
			t.Errorf("block %s: a = %.12g, want exp(-ε/Δ) = %.12g", bl.Name, bl.Scale.A(), a)
		}
		effective.Add(effective, new(big.Rat).Mul(gammaRat(bl.Scale), new(big.Rat).SetInt64(int64(bl.Sensitivity))))
		for _, slot := range bl.Slots {
			if s := b.Scale(slot); s != bl.Scale {
				t.Errorf("Scale(%d) = %v, block %s has %v", slot, s, bl.Name, bl.Scale)
			}
		}
	}
	if math.Abs(sum-eps) > 1e-12*eps {
		t.Errorf("block epsilons add up to %.17g, want %g", sum, eps)
	}
	if effective.Cmp(new(big.Rat).SetFloat64(eps)) > 0 {
		t.Errorf("effective epsilons add up to %s, above %g", effective.FloatString(20), eps)
	}
	if f, _ := effective.Float64(); f < eps*(1-1e-4) {
		t.Errorf("effective epsilons add up to %g, far below %g", f, eps)
	}
}

func gammaRat(s Scale) *big.Rat {
	return new(big.Rat).SetFrac(new(big.Int).SetUint64(s.num), new(big.Int).Lsh(big.NewInt(1), gammaBits))
}

func TestSplitErrors(t *testing.T) {
	hugeCalls := cohorts.DefaultSpec()
	hugeCalls.Bounds.CallSeconds = 1 << 40
	invalid := cohorts.DefaultSpec()
	invalid.K = 1
	for _, tt := range []struct {
		name string
		spec cohorts.Spec
		eps  float64
		want string
	}{
		{"zero epsilon", cohorts.DefaultSpec(), 0, "epsilon 0, want a positive finite number"},
		{"negative epsilon", cohorts.DefaultSpec(), -1, "epsilon -1, want"},
		{"NaN epsilon", cohorts.DefaultSpec(), math.NaN(), "epsilon NaN, want"},
		{"infinite epsilon", cohorts.DefaultSpec(), math.Inf(1), "epsilon +Inf, want"},
		{"invalid spec", invalid, 1, "k: 1, want at least 2"},
		{"noise too large", hugeCalls, 1e-5, "block sum.call_seconds: noise scale: epsilon 7.143e-07 over sensitivity 4294967295 is below 2^-40"},
		{"no noise", cohorts.DefaultSpec(), 1e8, "block users: noise scale: epsilon 5e+07 over sensitivity 5 is above 2^20"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Split(tt.spec, tt.eps)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestBudgetScaleBadSlot(t *testing.T) {
	b, err := Split(cohorts.DefaultSpec(), 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, slot := range []int{-3, cohorts.NumFeaturesV1()} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), fmt.Sprintf("slot %d", slot)) {
					t.Errorf("Scale(%d): recovered %v, want a BUG panic", slot, r)
				}
			}()
			b.Scale(slot)
		}()
	}
}
