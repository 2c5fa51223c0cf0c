package cohorts

import "math"

// userState is what a window remembers of one user: 24 bytes, key
// included. It holds no attribute of the user: the cohort is an index,
// the reach set a bit mask over feature slots, and a minor is one bit.
type userState struct {
	key    uint64 // mix(UserID); 0 marks an empty slot
	word   uint64 // bits [0, reachBits): reach set; minorFlag; [eventsShift, 64): events, saturating
	cohort uint32 // index into the window's cohort table; meaningless while events() is 0
	calls  uint32 // call seconds counted so far, at most the call bound
}

// The layout of userState.word. reachBits is how many reach dimensions a
// user's state holds (feature set v1 uses 43); minorFlag marks a user who
// sent an event of age 13-17 in the window, who is then left out of the
// whole window (WindowState); the 16 bits from eventsShift count the
// user's deduplicated events in the window, saturating at MaxEventsBound.
const (
	reachBits   = 47
	reachMask   = 1<<reachBits - 1
	minorFlag   = 1 << reachBits
	eventsShift = 48
	countOne    = 1 << eventsShift
)

// MaxEventsBound is the largest events bound the window state applies: a
// spec's bounds.events above it acts as MaxEventsBound (per-user counts
// are 16 bits). No real user sends 65535 events in one window.
const MaxEventsBound = 1<<(64-eventsShift) - 1

// events returns the user's deduplicated event count (saturated).
func (u *userState) events() uint32 { return uint32(u.word >> eventsShift) }

// minor reports whether the user is a minor in this window.
func (u *userState) minor() bool { return u.word&minorFlag != 0 }

func effectiveEventsBound(s Spec) uint32 {
	return uint32(min(max(s.Bounds.Events, 0), MaxEventsBound))
}

func effectiveCallBound(s Spec) uint32 {
	return uint32(min(max(s.Bounds.CallSeconds, 0), math.MaxUint32))
}

// maxUserSlots is the most slots a user table may have: the dedup set
// names a user by its slot in ownerBits bits (id_set.go). At 7/8 load that
// is 234 million users in one window of one partition, some 10 GB of
// state: far beyond what one worker should hold.
const maxUserSlots = 1 << ownerBits

// userTable maps UserID to userState (see hash_table.go for the layout).
// The dedup set refers to users by their slot index, so a resize reports
// where every user went (resize's remap).
type userTable struct {
	slots []userState // len n+1; slots[n] is the user whose mixed key is 0
	slab  *slab       // holds slots when they are off the Go heap (slab.go)
	count int         // users held, the zero-key user included
	limit int         // grow when count reaches it
	zero  bool        // slots[n] is in use
}

// full reports whether the next new user needs a bigger table.
func (t *userTable) full() bool { return t.count >= t.limit }

// upsert returns the state of user u, adding a zeroed one (isNew) if u
// has none, growing the table as needed. The pointer is valid until the
// next upsert. For tests of the table alone: WindowState grows the table
// itself, to relink the dedup set.
func (t *userTable) upsert(u UserID) (st *userState, isNew bool) {
	if t.full() {
		t.resize(sizeFor(t.count+1), nil)
	}
	k, i := t.prepare(u)
	st, _, isNew = t.upsertAt(k, i, t.slots[i].key)
	return st, isNew
}

// prepare returns u's mixed key and first probe slot, for upsertAt, on a
// table that is not full. Split from it so that Add can start loading the
// slot (a cache miss in a big table) before it probes the dedup set
// (another one), and the two misses overlap.
func (t *userTable) prepare(u UserID) (k uint64, i int) {
	k = mix(uint64(u))
	n := len(t.slots) - 1
	if k == 0 {
		return 0, n
	}
	return k, home(k, n)
}

// upsertAt is upsert from what prepare returned, with no table change in
// between; first is the key in slot i, loaded by the caller. It also
// returns the user's slot, the name the dedup set knows the user by.
func (t *userTable) upsertAt(k uint64, i int, first uint64) (st *userState, slot int, isNew bool) {
	n := len(t.slots) - 1
	if first == k && k != 0 {
		return &t.slots[i], i, false // most events: a known user in its home slot
	}
	if k == 0 {
		isNew = !t.zero
		if isNew {
			t.zero = true
			t.count++
		}
		return &t.slots[n], n, isNew
	}
	slots := t.slots[:n]
	for {
		st = &slots[i]
		if st.key == k {
			return st, i, false
		}
		if st.key == 0 {
			st.key = k
			t.count++
			return st, i, true
		}
		if i++; i == n {
			i = 0
		}
	}
}

// contains reports whether the user with mixed key k (from prepare, first
// probe slot i) has a state.
func (t *userTable) contains(k uint64, i int) bool {
	n := len(t.slots) - 1
	if k == 0 {
		return t.zero
	}
	for slots := t.slots[:n]; ; {
		switch slots[i].key {
		case k:
			return true
		case 0:
			return false
		}
		if i++; i == n {
			i = 0
		}
	}
}

// resize moves every user into a table of size probe slots, walking the
// old one in order. When remap is given (len(t.slots) entries, or none
// for an empty table) it sets remap[old slot] = new slot for every user.
func (t *userTable) resize(size int, remap []uint32) {
	old, oldSlab := t.slots, t.slab
	defer oldSlab.free()
	t.slots, t.slab = allocSlots[userState](size + 1)
	t.limit = limitOf(size)
	if len(old) == 0 {
		return
	}
	t.slots[size] = old[len(old)-1] // the zero-key user
	if remap != nil {
		remap[len(old)-1] = uint32(size)
	}
	for j, st := range old[:len(old)-1] {
		if st.key == 0 {
			continue
		}
		for i := home(st.key, size); ; {
			if t.slots[i].key == 0 {
				t.slots[i] = st
				if remap != nil {
					remap[j] = uint32(i)
				}
				break
			}
			if i++; i == size {
				i = 0
			}
		}
	}
}

// release empties the table and gives its memory back now.
func (t *userTable) release() {
	slab := t.slab
	*t = userTable{}
	slab.free()
}

// all returns every slot that may hold a user; the caller skips empty ones
// with used, and keeps t alive while it uses them (slab.go).
func (t *userTable) all() []userState { return t.slots }

// used reports whether slot i of all() holds a user.
func (t *userTable) used(i int) bool {
	if i == len(t.slots)-1 {
		return t.zero
	}
	return t.slots[i].key != 0
}

// bytes is the memory the table holds.
func (t *userTable) bytes() int { return 24 * cap(t.slots) }
