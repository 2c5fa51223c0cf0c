package cohorts

import "math/bits"

// Partials returns one Partial per finest cohort with at least one user,
// ordered by cohort id (then key, should two ids collide), so that
// identical input gives identical output. Minors are in none: what a
// user's events added before the user turned out to be a minor is taken
// out here, from the user's state and the dedup set's journal. It does not
// change the state: calling it twice gives the same result. The Values
// slices share one allocation, owned by the caller, and follow partial
// layout 2 (PartialFeatureSet): the v1 slots, then the reach of each
// category group, counted here from the users' reach sets.
func (s *WindowState) Partials() []Partial {
	c := &s.cohorts
	n := uint32(NumPartialValues())
	vals := make([]uint64, len(c.keys)*int(n))
	for i := range c.keys {
		copy(vals[i*int(n):], c.row(uint32(i)))
	}
	users := append([]uint64(nil), c.users...)
	events := append([]uint64(nil), c.events...)
	all := s.users.all()
	for i := range all {
		if !s.users.used(i) {
			continue
		}
		u := &all[i]
		if u.minor() {
			if u.events() > 0 {
				row := vals[u.cohort*n : (u.cohort+1)*n]
				users[u.cohort]--
				events[u.cohort] -= min(uint64(u.events()), s.eventsBound)
				for b := u.word & reachMask; b != 0; b &= b - 1 {
					row[bits.TrailingZeros64(b)]--
				}
				row[v1.callSlot] -= uint64(u.calls)
			}
			continue
		}
		row := vals[u.cohort*n : (u.cohort+1)*n]
		row[v1.histSlot+histBucket(u.events())]++
		groups.addGroupReach(row, u.word&reachMask)
	}
	if s.retracted > 0 {
		s.takeOutMinorSums(vals, all)
	}
	s.keepAlive()
	order, ids := c.byID()
	out := make([]Partial, 0, len(order))
	for _, i := range order {
		if users[i] == 0 {
			continue // its only users were minors
		}
		out = append(out, Partial{
			Key:    c.keys[i],
			ID:     ids[i],
			Users:  users[i],
			Events: events[i],
			Values: vals[i*n : (i+1)*n : (i+1)*n],
		})
	}
	return out
}

// takeOutMinorSums subtracts from vals the sums of every counted event of a
// user flagged as a minor after it: one walk over the dedup set, done only
// in a window that has such users. all is the user table's slots.
func (s *WindowState) takeOutMinorSums(vals []uint64, all []userState) {
	n := uint32(NumPartialValues())
	for i, e := range s.seen.slots {
		code := s.seen.codes[i]
		if e == 0 || code == 0 {
			continue // an empty slot, or a bounded event: it added no sum
		}
		u := &all[e&ownerMask]
		if !u.minor() {
			continue
		}
		sums := vals[u.cohort*n+uint32(v1.numReach) : u.cohort*n+uint32(v1.numValues)]
		for b := v1.codeDims(code); b != 0; b &= b - 1 {
			sums[bits.TrailingZeros64(b)]--
		}
	}
}

// Retracted returns how many of the window's events, counted or bounded
// when they came, Partials takes out again because their user turned out
// to be a minor later in the window.
func (s *WindowState) Retracted() int {
	if s.retracted == 0 {
		return 0
	}
	n := 0
	all := s.users.all()
	for i := range all {
		if s.users.used(i) && all[i].minor() {
			n += int(all[i].events())
		}
	}
	s.keepAlive()
	return n
}
