package cohorts

// idSet is the window's dedup set: the re-keyed ids (Rekeyer.EventID) of
// every event counted in the window, 8 bytes per slot. See hash_table.go
// for the layout. Two different producer ids are taken for one only if
// their 64-bit PRF values collide: about n²/2⁶⁵ for n events in a window,
// under 10⁻⁶ for 5 million.
type idSet struct {
	slots []uint64 // 0 marks an empty slot
	slab  *slab    // holds slots when they are off the Go heap (slab.go)
	count int      // keys held, the zero key included
	limit int      // grow when count reaches it
	zero  bool     // the key 0 (kept outside slots) is in the set
}

// insert adds id and reports whether it was new.
func (s *idSet) insert(id uint64) bool {
	k := mix(id)
	if k == 0 {
		if s.zero {
			return false
		}
		s.zero = true
		s.count++
		return true
	}
	if s.count >= s.limit {
		s.resize(sizeFor(s.count + 1))
	}
	slots := s.slots
	for i := home(k, len(slots)); ; {
		switch slots[i] {
		case k:
			return false
		case 0:
			slots[i] = k
			s.count++
			return true
		}
		if i++; i == len(slots) {
			i = 0
		}
	}
}

// reserve grows the set so that it holds n keys without growing again.
func (s *idSet) reserve(n int) {
	if n > s.limit {
		s.resize(sizeFor(n))
	}
}

// resize moves every key into a table of size slots, walking the old one
// in order (see hash_table.go for why that is cheap).
func (s *idSet) resize(size int) {
	old, oldSlab := s.slots, s.slab
	defer oldSlab.free()
	s.slots, s.slab = allocSlots[uint64](size)
	s.limit = limitOf(size)
	for _, k := range old {
		if k == 0 {
			continue
		}
		for i := home(k, size); ; {
			if s.slots[i] == 0 {
				s.slots[i] = k
				break
			}
			if i++; i == size {
				i = 0
			}
		}
	}
}

// release empties the set and gives its memory back now.
func (s *idSet) release() {
	slab := s.slab
	*s = idSet{}
	slab.free()
}

// bytes is the memory the set holds.
func (s *idSet) bytes() int { return 8 * cap(s.slots) }
