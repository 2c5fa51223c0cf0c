package publish

import (
	"math"
	"slices"
	"strings"

	"github.com/cohortline/cohortline/cohorts"
)

// Post-processing of a feature set 2 row. Every step reads only the
// row's noisy values and the public noise variances (never a true
// value), so it costs no privacy (post-processing theorem of DP; of zCDP,
// Bun and Steinke 2016, Lemma 1.8), and each step makes the published
// numbers more accurate or more coherent:
//
//  1. Users. The users count u and the histogram total h both estimate
//     the row's users, with independent noise of variances V_u and
//     5·V_h; û = (u/V_u + h/(5V_h)) / (1/V_u + 1/(5V_h)) has the smallest
//     variance of any unbiased combination (inverse-variance weighting).
//     It is rounded, and floored at k: the row passed the k threshold on
//     u, and publishing less than k would read as a smaller row.
//  2. Histogram. The noisy buckets are projected on the simplex {x ≥ 0,
//     Σx = û} (Euclidean projection: subtract one constant, clamp at 0;
//     Duchi et al. 2008), then rounded to integers by largest remainder,
//     so buckets are non-negative integers that add up to the users.
//  3. Reach. Each reach slot is clamped to [0, û] and rounded: no more
//     users did something than there are users.
//  4. Sums. Each event sum is clamped at 0 and rounded, and raised to its
//     kind's reach (everyone who reached a kind has an event of it).
//  5. Totals between blocks. The sums by category group count a subset of
//     the events of the sums by kind (those with a business category),
//     so Σ groups ≤ Σ kinds; when the noise breaks that, both totals move
//     to their inverse-variance-weighted mean and each family is scaled to
//     it (largest remainder keeps integers).
//  6. Call seconds are clamped at 0 and rounded.
//
// An off block's slots stay NaN. Feature set 1 rows are published as
// before: each count clamped at 0 (privacy.AddClamped), nothing else.

// layoutV2 is where the families of feature set 2 are.
type layoutV2 struct {
	reach, kindReach, kindSums, groupSums, hist []int
	call                                        int
	kindSumOf                                   map[int]int // kind reach slot → kind sum slot
}

var v2 = newLayoutV2()

func newLayoutV2() layoutV2 {
	fs := cohorts.MustFeatureSet(cohorts.FeatureSetV2Version)
	l := layoutV2{kindSumOf: map[int]int{}, call: fs.CallSlot()}
	for _, f := range fs.Features {
		switch {
		case f.Kind == cohorts.FeatureReach:
			l.reach = append(l.reach, f.Index)
			if f.Group == "kind" {
				l.kindReach = append(l.kindReach, f.Index)
				l.kindSumOf[f.Index] = fs.Slot("sum." + strings.TrimPrefix(f.Name, "reach."))
			}
		case f.Kind == cohorts.FeatureHistogram:
			l.hist = append(l.hist, f.Index)
		case f.Group == "kind":
			l.kindSums = append(l.kindSums, f.Index)
		case f.Group == "category_group":
			l.groupSums = append(l.groupSums, f.Index)
		}
	}
	return l
}

// noisyRow is a feature set 2 row before post-processing: noisy values
// (NaN for an off block) and the variance of each value's noise.
type noisyRow struct {
	users    float64
	usersVar float64
	vals     []float64
	vars     []float64
}

// postProcess returns the published users count and feature values of r
// (steps 1–6 above). k is the spec's threshold.
func postProcess(r noisyRow, k int) (uint64, []float32) {
	l := &v2
	users := r.users
	if h, hv, ok := total(r, l.hist); ok && r.usersVar > 0 && hv > 0 {
		users = (r.users/r.usersVar + h/hv) / (1/r.usersVar + 1/hv)
	}
	users = math.Max(math.Round(users), float64(k))
	out := make([]float64, len(r.vals))
	copy(out, r.vals)

	if !math.IsNaN(out[l.hist[0]]) {
		h := make([]float64, len(l.hist))
		for i, s := range l.hist {
			h[i] = out[s]
		}
		for i, v := range roundToSum(projectSimplex(h, users), users) {
			out[l.hist[i]] = v
		}
	}
	for _, s := range l.reach {
		out[s] = math.Round(math.Min(math.Max(out[s], 0), users))
	}
	for _, fam := range [][]int{l.kindSums, l.groupSums} {
		for _, s := range fam {
			out[s] = math.Round(math.Max(out[s], 0))
		}
	}
	for _, s := range l.kindReach {
		if sum := l.kindSumOf[s]; !math.IsNaN(out[sum]) && !math.IsNaN(out[s]) {
			out[sum] = math.Max(out[sum], out[s])
		}
	}
	consistentTotals(out, r.vars, l.kindSums, l.groupSums)
	out[l.call] = math.Round(math.Max(out[l.call], 0))

	f := make([]float32, len(out))
	for i, v := range out {
		f[i] = float32(v)
	}
	return uint64(users), f
}

// total is the sum of slots and its noise variance; false if they are off.
func total(r noisyRow, slots []int) (float64, float64, bool) {
	var t, v float64
	for _, s := range slots {
		if math.IsNaN(r.vals[s]) {
			return 0, 0, false
		}
		t += r.vals[s]
		v += r.vars[s]
	}
	return t, v, true
}

// consistentTotals enforces Σ groups ≤ Σ kinds (step 5).
func consistentTotals(out, vars []float64, kinds, groups []int) {
	sum := func(slots []int) (t, v float64) {
		for _, s := range slots {
			t += out[s]
			v += vars[s]
		}
		return t, v
	}
	tk, vk := sum(kinds)
	tg, vg := sum(groups)
	if math.IsNaN(tk) || math.IsNaN(tg) || tg <= tk || vk <= 0 || vg <= 0 {
		return
	}
	c := math.Round((tk/vk + tg/vg) / (1/vk + 1/vg))
	for _, fam := range [][]int{kinds, groups} {
		vals := make([]float64, len(fam))
		t := 0.0
		for i, s := range fam {
			vals[i] = out[s]
			t += out[s]
		}
		for i := range vals {
			if t > 0 {
				vals[i] *= c / t
			} else {
				vals[i] = c / float64(len(vals))
			}
		}
		for i, v := range roundToSum(vals, c) {
			out[fam[i]] = v
		}
	}
}

// projectSimplex is the Euclidean projection of v on {x ≥ 0, Σx = total}
// (total ≥ 0): x_i = max(v_i - θ, 0) with the θ that makes them add up
// (sort-based algorithm of Duchi, Shalev-Shwartz, Singer and Chandra,
// ICML 2008).
func projectSimplex(v []float64, total float64) []float64 {
	u := slices.Clone(v)
	slices.Sort(u)
	slices.Reverse(u)
	var cum, theta float64
	for i, x := range u {
		cum += x
		if t := (cum - total) / float64(i+1); x-t > 0 {
			theta = t
		}
	}
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = math.Max(x-theta, 0)
	}
	return out
}

// roundToSum rounds non-negative v (adding up to total, an integer) to
// integers adding up to total: floors, then one more to the largest
// remainders (ties to the lower index, so it is deterministic).
func roundToSum(v []float64, total float64) []float64 {
	out := make([]float64, len(v))
	left := total
	idx := make([]int, len(v))
	for i, x := range v {
		out[i] = math.Floor(x)
		left -= out[i]
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		ra, rb := v[a]-out[a], v[b]-out[b]
		switch {
		case ra > rb:
			return -1
		case ra < rb:
			return 1
		}
		return 0
	})
	for i := 0; left > 0 && len(idx) > 0; i = (i + 1) % len(idx) {
		out[idx[i]]++
		left--
	}
	return out
}
