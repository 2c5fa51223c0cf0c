package publish

import (
	"math"
	"slices"
	"testing"
)

func TestProjectSimplexAndRound(t *testing.T) {
	for _, c := range []struct {
		v     []float64
		total float64
	}{
		{[]float64{10, 20, 30, 5, -3}, 60},
		{[]float64{-5, -5, 100, 0, 1}, 40},
		{[]float64{1.5, 1.5, 1.5, 1.5, 1.5}, 7},
		{[]float64{0, 0, 0, 0, 0}, 3},
	} {
		p := projectSimplex(c.v, c.total)
		var sum float64
		for _, x := range p {
			if x < 0 {
				t.Errorf("%v: projection %v has a negative value", c.v, p)
			}
			sum += x
		}
		if math.Abs(sum-c.total) > 1e-9 {
			t.Errorf("%v: projection %v adds up to %g, want %g", c.v, p, sum, c.total)
		}
		r := roundToSum(p, c.total)
		sum = 0
		for i, x := range r {
			if x != math.Floor(x) || math.Abs(x-p[i]) >= 1 {
				t.Errorf("%v: rounding %v of %v", c.v, r, p)
			}
			sum += x
		}
		if sum != c.total {
			t.Errorf("%v: rounded %v adds up to %g, want %g", c.v, r, sum, c.total)
		}
	}
	// Order is kept: a projection is x_i - θ clamped, monotone in v.
	p := projectSimplex([]float64{3, 9, 1, 5}, 10)
	if !slices.Equal(p, []float64{1.5, 7.5, 0, 3.5}) && !(p[1] > p[3] && p[3] > p[0] && p[0] >= p[2]) {
		t.Errorf("projection %v does not keep the order", p)
	}
}

// TestPostProcessUsers: the combined users count is the inverse-variance
// mean of the users count and the histogram total, floored at k.
func TestPostProcessUsers(t *testing.T) {
	fs := 45
	r := noisyRow{users: 100, usersVar: 20, vals: make([]float64, fs), vars: make([]float64, fs)}
	for i := range r.vars {
		r.vars[i] = 12
	}
	for _, s := range v2.hist {
		r.vals[s] = 22 // total 110, variance 60
	}
	users, f := postProcess(r, 50)
	want := math.Round((100.0/20 + 110.0/60) / (1.0/20 + 1.0/60)) // 102.5 → 103
	if float64(users) != want {
		t.Errorf("users %d, want %g", users, want)
	}
	var hist float32
	for _, s := range v2.hist {
		hist += f[s]
	}
	if hist != float32(users) {
		t.Errorf("histogram total %g, users %d", hist, users)
	}
	r.users = 10
	for _, s := range v2.hist {
		r.vals[s] = 2
	}
	if users, _ := postProcess(r, 50); users != 50 {
		t.Errorf("users %d for a row that passed k = 50, want floored at 50", users)
	}
}
