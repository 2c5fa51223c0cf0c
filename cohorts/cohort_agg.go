package cohorts

import (
	"cmp"
	"slices"
)

// cohortTable holds the additive aggregates of the finest cohorts of one
// window, indexed densely in order of first appearance (a user's state
// keeps the index, 4 bytes, instead of the Key). A cohort exists once a
// user is assigned to it, so every cohort here has at least one user.
//
// The Go map is looked up once per new user, not per event; per-event
// updates go through the index straight into vals.
type cohortTable struct {
	index  map[Key]uint32
	keys   []Key
	users  []uint64
	events []uint64
	vals   []uint64 // v1.numValues slots per cohort, cohort i at i·numValues
}

// of returns the index of the cohort k, adding it if new.
func (c *cohortTable) of(k Key) uint32 {
	if i, ok := c.index[k]; ok {
		return i
	}
	if c.index == nil {
		c.index = make(map[Key]uint32)
	}
	i := uint32(len(c.keys))
	c.index[k] = i
	c.keys = append(c.keys, k)
	c.users = append(c.users, 0)
	c.events = append(c.events, 0)
	c.vals = append(c.vals, make([]uint64, v1.numValues)...)
	return i
}

// reserve makes room for n cohorts.
func (c *cohortTable) reserve(n int) {
	if n <= cap(c.keys) {
		return
	}
	if c.index == nil {
		c.index = make(map[Key]uint32, n)
	}
	c.keys = slices.Grow(c.keys, n-len(c.keys))
	c.users = slices.Grow(c.users, n-len(c.users))
	c.events = slices.Grow(c.events, n-len(c.events))
	c.vals = slices.Grow(c.vals, n*v1.numValues-len(c.vals))
}

// row returns the feature slots of cohort i.
func (c *cohortTable) row(i uint32) []uint64 {
	n := uint32(v1.numValues)
	return c.vals[i*n : (i+1)*n : (i+1)*n]
}

// byID returns the cohort indexes ordered by cohort id, the order of
// Partials. Distinct keys with equal ids (a 64-bit hash collision) are
// ordered by key string, so the order is total and deterministic.
func (c *cohortTable) byID() ([]uint32, []uint64) {
	ids := make([]uint64, len(c.keys))
	order := make([]uint32, len(c.keys))
	for i, k := range c.keys {
		ids[i], order[i] = k.ID(), uint32(i)
	}
	slices.SortFunc(order, func(a, b uint32) int {
		if r := cmp.Compare(ids[a], ids[b]); r != 0 {
			return r
		}
		return cmp.Compare(c.keys[a].String(), c.keys[b].String())
	})
	return order, ids
}

// bytes is roughly the memory the table holds (Go map overhead guessed at
// 48 bytes per entry).
func (c *cohortTable) bytes() int {
	return 48*len(c.index) + 8*(cap(c.keys)+cap(c.users)+cap(c.events)+cap(c.vals))
}
