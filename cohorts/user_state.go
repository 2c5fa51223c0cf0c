package cohorts

import "math"

// userState is what a window remembers of one user: 24 bytes, key
// included. It holds no attribute of the user: the cohort is an index,
// the reach set a bit mask over feature slots.
type userState struct {
	key    uint64 // mix(UserID); 0 marks an empty slot
	word   uint64 // bits [0, reachBits): reach set; [reachBits, 64): events, saturating
	cohort uint32 // index into the window's cohort table
	calls  uint32 // call seconds counted so far, at most the call bound
}

// reachBits is how many reach dimensions a user's state holds (feature
// set v1 uses 43); the 16 bits above them count the user's deduplicated
// events in the window, saturating at MaxEventsBound.
const (
	reachBits   = 48
	eventsShift = reachBits
	countOne    = 1 << eventsShift
)

// MaxEventsBound is the largest events bound the window state applies: a
// spec's bounds.events above it acts as MaxEventsBound (per-user counts
// are 16 bits). No real user sends 65535 events in one window.
const MaxEventsBound = 1<<(64-reachBits) - 1

// events returns the user's deduplicated event count (saturated).
func (u *userState) events() uint32 { return uint32(u.word >> eventsShift) }

func effectiveEventsBound(s Spec) uint32 {
	return uint32(min(max(s.Bounds.Events, 0), MaxEventsBound))
}

func effectiveCallBound(s Spec) uint32 {
	return uint32(min(max(s.Bounds.CallSeconds, 0), math.MaxUint32))
}

// userTable maps UserID to userState (see hash_table.go for the layout).
type userTable struct {
	slots []userState // len n+1; slots[n] is the user whose mixed key is 0
	slab  *slab       // holds slots when they are off the Go heap (slab.go)
	count int         // users held, the zero-key user included
	limit int         // grow when count reaches it
	zero  bool        // slots[n] is in use
}

// upsert returns the state of user u, adding a zeroed one (isNew) if u
// has none. The pointer is valid until the next upsert.
func (t *userTable) upsert(u UserID) (st *userState, isNew bool) {
	k, i := t.prepare(u)
	return t.upsertAt(k, i, t.slots[i].key)
}

// prepare grows the table if it is full and returns u's mixed key and
// first probe slot, for upsertAt. Split from it so that Add can start
// loading the slot (a cache miss in a big table) before it probes the
// dedup set (another one), and the two misses overlap.
func (t *userTable) prepare(u UserID) (k uint64, i int) {
	if t.count >= t.limit {
		t.resize(sizeFor(t.count + 1))
	}
	k = mix(uint64(u))
	n := len(t.slots) - 1
	if k == 0 {
		return 0, n
	}
	return k, home(k, n)
}

// upsertAt is upsert from what prepare returned, with no table change in
// between; first is the key in slot i, loaded by the caller.
func (t *userTable) upsertAt(k uint64, i int, first uint64) (st *userState, isNew bool) {
	n := len(t.slots) - 1
	if first == k && k != 0 {
		return &t.slots[i], false // most events: a known user in its home slot
	}
	if k == 0 {
		isNew = !t.zero
		if isNew {
			t.zero = true
			t.count++
		}
		return &t.slots[n], isNew
	}
	slots := t.slots[:n]
	for {
		st = &slots[i]
		if st.key == k {
			return st, false
		}
		if st.key == 0 {
			st.key = k
			t.count++
			return st, true
		}
		if i++; i == n {
			i = 0
		}
	}
}

// reserve grows the table so that it holds n users without growing again.
func (t *userTable) reserve(n int) {
	if n > t.limit {
		t.resize(sizeFor(n))
	}
}

// resize moves every user into a table of size probe slots, walking the
// old one in order.
func (t *userTable) resize(size int) {
	old, oldSlab := t.slots, t.slab
	defer oldSlab.free()
	t.slots, t.slab = allocSlots[userState](size + 1)
	t.limit = limitOf(size)
	if len(old) == 0 {
		return
	}
	t.slots[size] = old[len(old)-1] // the zero-key user
	for _, st := range old[:len(old)-1] {
		if st.key == 0 {
			continue
		}
		for i := home(st.key, size); ; {
			if t.slots[i].key == 0 {
				t.slots[i] = st
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
