package cohorts

// idSet is the window's dedup set and its journal of counted events.
//
// Dedup is per person (DESIGN.md, privacy invariant 6): an event id only
// deduplicates the events of the user who sent it, so nobody can erase
// another user's events by sending their ids first, and producers that
// number events per device ("1", "2", …) lose nothing. An entry is
//
//	tag<<ownerBits | owner
//
// where owner is the user's slot in the window's user table and tag is
// tagBits of a hash of the (user, re-keyed event id) pair. Two events of
// different users never share an entry (different owners); two different
// ids of one user are taken for one only if their tags collide, about
// c²/2³⁷ for a user with c events in the window (7·10⁻⁸ at c = 100, the
// default events bound). The tag is never 0, so no entry is 0, which marks
// an empty slot. The home slot depends on the tag alone (through mix, so
// that tests' small tags spread too), so when the user table grows and
// users move, relink rewrites the owners in place.
//
// codes holds, slot for slot, what a counted event added to the sums
// (eventCode): enough to take a user's events out again when the user
// turns out to be a minor later in the window (WindowState.Partials). A
// bounded event's code is 0: it added to no sum.
//
// 10 bytes per slot (see hash_table.go for the layout and load).
type idSet struct {
	slots     []uint64
	codes     []uint16
	slab      *slab // holds slots when they are off the Go heap (slab.go)
	codesSlab *slab
	count     int    // entries held
	limit     int    // grow when count reaches it
	loaded    uint64 // sink of touch's early load; meaningless
}

const (
	ownerBits = 28
	ownerMask = 1<<ownerBits - 1
	tagBits   = 64 - ownerBits
)

// dedupTag returns the tag of the event with re-keyed id eventID of user:
// both are PRF outputs, so the tag is unpredictable without the secret,
// and the same producer id of two users gives unrelated tags (no
// clustering of per-device ids in one probe run).
func dedupTag(user UserID, eventID uint64) uint64 {
	t := mix(eventID^mix(uint64(user)+0x9e3779b97f4a7c15)) >> ownerBits
	if t == 0 {
		t = 1
	}
	return t
}

// insert adds the event tagged tag of the user in slot owner and reports
// whether it was new, and the slot it is in (for its code).
func (s *idSet) insert(owner uint32, tag uint64) (pos int, fresh bool) {
	return s.insertFrom(s.touch(tag), owner, tag)
}

// touch grows the set if it is full and returns the home slot of tag,
// having loaded it: a caller that has another cache miss to wait for (the
// user table's) calls it first and passes the slot to insertFrom.
func (s *idSet) touch(tag uint64) int {
	if s.count >= s.limit {
		s.resize(sizeFor(s.count + 1))
	}
	i := home(mix(tag), len(s.slots))
	s.loaded += s.slots[i] & 1 // a load the compiler keeps
	return i
}

// insertFrom is insert from the home slot that touch returned, with no
// change to the set in between.
func (s *idSet) insertFrom(i int, owner uint32, tag uint64) (pos int, fresh bool) {
	e := tag<<ownerBits | uint64(owner)
	slots := s.slots
	for {
		switch slots[i] {
		case e:
			return i, false
		case 0:
			slots[i] = e
			s.count++
			return i, true
		}
		if i++; i == len(slots) {
			i = 0
		}
	}
}

// relink rewrites every entry's owner after the user table moved its users:
// remap[old slot] is the new one.
func (s *idSet) relink(remap []uint32) {
	for i, e := range s.slots {
		if e != 0 {
			s.slots[i] = e&^ownerMask | uint64(remap[e&ownerMask])
		}
	}
}

// reserve grows the set so that it holds n entries without growing again.
func (s *idSet) reserve(n int) {
	if n > s.limit {
		s.resize(sizeFor(n))
	}
}

// resize moves every entry into a table of size slots, walking the old one
// in order (see hash_table.go for why that is cheap).
func (s *idSet) resize(size int) {
	old, oldCodes := s.slots, s.codes
	oldSlab, oldCodesSlab := s.slab, s.codesSlab
	defer oldSlab.free()
	defer oldCodesSlab.free()
	s.slots, s.slab = allocSlots[uint64](size)
	s.codes, s.codesSlab = allocSlots[uint16](size)
	s.limit = limitOf(size)
	for j, e := range old {
		if e == 0 {
			continue
		}
		for i := home(mix(e>>ownerBits), size); ; {
			if s.slots[i] == 0 {
				s.slots[i], s.codes[i] = e, oldCodes[j]
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
	slab, codesSlab := s.slab, s.codesSlab
	*s = idSet{}
	slab.free()
	codesSlab.free()
}

// bytes is the memory the set holds.
func (s *idSet) bytes() int { return 8*cap(s.slots) + 2*cap(s.codes) }
