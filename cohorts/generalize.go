package cohorts

import "iter"

// The generalization chain of a spec: level 0 is a finest cohort, level i
// has the first i dimensions of Spec.Generalize set to "*", and level
// len(Generalize) is the single all-"*" cohort. The publisher merges a
// cohort with fewer than K users into its parent one level up.

// Ancestor returns k generalized to chain level: the first level
// dimensions of s.Generalize set to "*" (a level outside 0…len(Generalize)
// is clamped). Dimensions that k already had as "*" stay so.
func (s Spec) Ancestor(k Key, level int) Key {
	level = min(max(level, 0), len(s.Generalize))
	for _, d := range s.Generalize[:level] {
		k = k.Generalize(d)
	}
	return k
}

// Ancestors yields (level, key) for k and each generalization of it, from
// level 0 (k itself) to the all-"*" cohort. It does not allocate.
func (s Spec) Ancestors(k Key) iter.Seq2[int, Key] {
	return func(yield func(int, Key) bool) {
		if !yield(0, k) {
			return
		}
		for i, d := range s.Generalize {
			k = k.Generalize(d)
			if !yield(i+1, k) {
				return
			}
		}
	}
}

// ChainLevel returns the chain level of k: the i for which k's generalized
// dimensions are exactly the first i of s.Generalize. It reports false for
// a key generalized off the chain (e.g. only country "*" when platform goes
// first), which the publisher never produces.
func (s Spec) ChainLevel(k Key) (int, bool) {
	var l Level
	for i, d := range s.Generalize {
		if l == k.Level() {
			return i, true
		}
		j, _ := d.index()
		l |= 1 << j
	}
	return len(s.Generalize), l == k.Level()
}
