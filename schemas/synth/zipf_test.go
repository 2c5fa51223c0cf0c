package synth

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestAliasFollowsWeights(t *testing.T) {
	weights := []float64{50, 0, 25, 12.5, 12.5}
	a := newAlias(weights)
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 400000
	got := make([]int, len(weights))
	for range n {
		got[a.sample(rng.Uint64())]++
	}
	for i, w := range weights {
		want := w / 100 * n
		if math.Abs(float64(got[i])-want) > 4*math.Sqrt(want+1) {
			t.Errorf("index %d drawn %d times, want %.0f", i, got[i], want)
		}
	}
}

func TestZipfWeightsDecrease(t *testing.T) {
	w := zipfWeights(5, 1, 0)
	for i := 1; i < len(w); i++ {
		if w[i] >= w[i-1] {
			t.Fatalf("weights %v do not decrease", w)
		}
	}
	if u := zipfWeights(3, 0, 10); u[0] != u[2] {
		t.Errorf("skew 0 gives %v, want uniform", u)
	}
}
