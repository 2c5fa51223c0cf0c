package synth

import "math"

// alias samples an index from a fixed discrete distribution in O(1) with a
// single 64-bit random number (Walker's alias method). It serves every
// categorical draw of the generator, from 8 platforms to millions of users,
// so a draw costs the same whatever the size of the table.
type alias struct {
	prob  []uint32 // keep index i when the low 32 bits of the draw are below prob[i]
	alias []uint32 // otherwise take alias[i]
}

// newAlias builds the table for weights (non-negative, not all zero).
func newAlias(weights []float64) alias {
	n := len(weights)
	if n == 0 || n > math.MaxUint32 {
		panic("BUG: alias table needs 1..2^32-1 weights")
	}
	var sum float64
	for _, w := range weights {
		if w < 0 || math.IsNaN(w) || math.IsInf(w, 0) {
			panic("BUG: alias weight must be a finite non-negative number")
		}
		sum += w
	}
	if sum == 0 {
		panic("BUG: alias weights are all zero")
	}
	a := alias{prob: make([]uint32, n), alias: make([]uint32, n)}
	scaled := make([]float64, n)
	small := make([]uint32, 0, n)
	large := make([]uint32, 0, n)
	for i, w := range weights {
		scaled[i] = w * float64(n) / sum
		if scaled[i] < 1 {
			small = append(small, uint32(i))
		} else {
			large = append(large, uint32(i))
		}
	}
	for len(small) > 0 && len(large) > 0 {
		s, l := small[len(small)-1], large[len(large)-1]
		small = small[:len(small)-1]
		a.prob[s] = probBits(scaled[s])
		a.alias[s] = l
		scaled[l] -= 1 - scaled[s]
		if scaled[l] < 1 {
			large = large[:len(large)-1]
			small = append(small, l)
		}
	}
	// Whatever is left is 1 up to rounding error: always keep it.
	for _, i := range append(small, large...) {
		a.prob[i] = math.MaxUint32
		a.alias[i] = i
	}
	return a
}

// probBits maps p in [0,1] to a 32-bit threshold.
func probBits(p float64) uint32 {
	if p >= 1 {
		return math.MaxUint32
	}
	if p <= 0 {
		return 0
	}
	return uint32(p * (1 << 32))
}

// sample maps one uniform 64-bit number to an index: the high 32 bits pick
// a column (multiply-shift, no division), the low 32 bits decide between
// the column and its alias.
func (a *alias) sample(r uint64) int {
	i := uint32((r >> 32) * uint64(len(a.prob)) >> 32)
	if uint32(r) < a.prob[i] {
		return int(i)
	}
	return int(a.alias[i])
}

// zipfWeights returns the Zipf–Mandelbrot weights 1/(k+1+shift)^skew for
// ranks k = 0..n-1. Skew 0 is uniform; larger is more concentrated on the
// first ranks. The shift flattens the head: with pure Zipf the top user of a
// 100k population would send 8% of all events, which no human does.
func zipfWeights(n int, skew, shift float64) []float64 {
	w := make([]float64, n)
	for k := range w {
		w[k] = math.Pow(float64(k)+1+shift, -skew)
	}
	return w
}
