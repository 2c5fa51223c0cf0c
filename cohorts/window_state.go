package cohorts

import (
	"fmt"
	"math/bits"
	"runtime"

	"github.com/cohortline/cohortline/schemas"
)

// WindowState aggregates the events of one event-time window in one
// partition worker: per-user state (cohort, event count, reach set, call
// seconds, minor flag), the dedup set of (user, event id) pairs, and the
// additive partials of each finest cohort. It is exact within the
// partition, and partials of different partitions add up exactly, because
// each user's events all land in one partition (DESIGN.md, "Why
// per-partition state works").
//
// Semantics of Add, which an independent reference computation in the
// tests reproduces exactly:
//
//   - Minors, per person. An event of age 13-17 is Minor and marks its user
//     a minor for the whole window: every event of that user in the window,
//     before and after, is left out of the partials, and the user's state
//     keeps nothing but the flag (what the user's earlier events had added
//     is taken out again by Partials). A minor event enters no dedup set
//     and fixes no cohort.
//   - Sensitive categories, per event. An event (not of age 13-17) with a
//     sensitive business category is Sensitive: it creates or touches no
//     state, nor enters the dedup set; the user's other events count.
//   - Later events of a minor are Minor.
//   - Dedup, per person. An event whose re-keyed id this user already sent
//     (counted or bounded) in this window is Duplicate and changes
//     nothing, whatever its content. The same id of another user is
//     another event. Ids are deduplicated within the window and partition
//     only.
//   - Cohort. The first counted event of a user in the window fixes the
//     user's cohort (KeyOf of that event); later events with other
//     attributes count in that cohort. "First" is in the order of Add
//     calls (the partition's offset order), not event time, so a replay of
//     the same offsets assigns the same cohorts.
//   - Bounding. A user's first Bounds.Events (at most MaxEventsBound)
//     deduplicated events are Counted: each adds 1 to the events column
//     and to the sum slot of its kind, peer, media and (non-sensitive)
//     category; a call adds its seconds to call seconds until the user's
//     total reaches Bounds.CallSeconds (the last call is clamped). Later
//     events are Bounded: they add to no sum, call seconds included.
//   - Reach and histogram see every deduplicated event, Bounded included:
//     reach slots count distinct users who did each thing at least once;
//     the histogram puts each user in one bucket by the raw deduplicated
//     event count (1, 2–5, 6–20, 21–100, >100).
//   - Capacity. A window of one partition holds at most maxUserSlots user
//     slots (over 200 million users); an event of a new user beyond that
//     is Overflow and changes nothing.
//
// The pipeline keeps one WindowState per open window and releases it after
// Partials once the window closes: that drops every UserID and event id
// of the window (privacy invariant 2) and gives the big tables' memory
// back to the kernel (they live outside the Go heap, see slab.go). A
// WindowState is not safe for concurrent use.
type WindowState struct {
	spec        Spec
	window      Window
	eventsBound uint64
	callBound   uint32
	users       userTable
	seen        idSet
	cohorts     cohortTable
	minors      int // users flagged as minors
	retracted   int // of them, users whose earlier events Partials takes out
	maxSlots    int // maxUserSlots; smaller in tests of Overflow
}

// NewWindowState returns the empty state of window w under spec, which
// must be valid. The spec is copied.
func NewWindowState(spec *Spec, w Window) *WindowState {
	return &WindowState{
		spec:        *spec,
		window:      w,
		eventsBound: uint64(effectiveEventsBound(*spec)),
		callBound:   effectiveCallBound(*spec),
		maxSlots:    maxUserSlots,
	}
}

// canGrow reports whether the user table may grow to hold n users.
func (s *WindowState) canGrow(n int) bool { return sizeFor(n)+1 <= s.maxSlots }

// Size is how much a window's state holds: what Reserve takes.
type Size struct {
	Users   int // distinct users, minors included
	Events  int // distinct events counted or bounded (the dedup set)
	Cohorts int // finest cohorts
}

// Size returns how much the state holds now.
func (s *WindowState) Size() Size {
	return Size{Users: s.users.count, Events: s.seen.count, Cohorts: len(s.cohorts.keys)}
}

// Reserve sizes the state to hold n without growing (rehashing) on the
// way. It is only a hint: a worker passes the Size of the window before,
// so that in steady state a window allocates its tables once.
func (s *WindowState) Reserve(n Size) {
	if n.Users > s.users.limit && s.canGrow(n.Users) {
		s.growUsers(sizeFor(n.Users))
	}
	s.seen.reserve(n.Events)
	s.cohorts.reserve(n.Cohorts)
}

// growUsers resizes the user table and relinks the dedup set to the
// users' new slots.
func (s *WindowState) growUsers(size int) {
	var remap []uint32
	if s.seen.count > 0 {
		remap = make([]uint32, len(s.users.slots))
	}
	s.users.resize(size, remap)
	if remap != nil {
		s.seen.relink(remap)
	}
}

// Add aggregates one decoded event of user (Rekeyer.User of e.User) with
// re-keyed id eventID (Rekeyer.EventID of e.ID), as the WindowState doc
// describes, and says what it did. e.TS must fall in the window (the
// pipeline routes by Spec.WindowOf); otherwise Add panics. It does not
// allocate, except when a table or the cohort list grows.
func (s *WindowState) Add(user UserID, eventID uint64, e *schemas.Event) Outcome {
	minorEvent := e.Age == schemas.AgeMinor
	if !minorEvent && int(e.Category) < len(v1.sensitive) && v1.sensitive[e.Category] {
		return Sensitive
	}
	if !s.window.Contains(e.TS) {
		panic(fmt.Sprintf("BUG: event at %d added to window [%d, %d)", e.TS, s.window.Start, s.window.End))
	}
	if s.users.full() {
		if !s.canGrow(s.users.count + 1) {
			if k, i := s.users.prepare(user); !s.users.contains(k, i) {
				return Overflow
			}
		} else {
			s.growUsers(sizeFor(s.users.count + 1))
		}
	}
	uk, ui := s.users.prepare(user)
	tag := dedupTag(user, eventID)
	probe := s.seen.touch(tag) // load early: the two cache misses overlap
	u, slot, isNew := s.users.upsertAt(uk, ui, s.users.slots[ui].key)
	if minorEvent || u.minor() {
		s.markMinor(u)
		return Minor
	}
	pos, fresh := s.seen.insertFrom(probe, uint32(slot), tag)
	if !fresh {
		return Duplicate
	}
	if isNew {
		u.cohort = s.cohorts.of(KeyOf(s.spec, e))
		s.cohorts.users[u.cohort]++
	}
	dims := v1.reachDims(e)
	prev := u.word >> eventsShift
	newDims := dims &^ u.word
	u.word |= dims
	if prev < MaxEventsBound {
		u.word += countOne
	}
	row := s.cohorts.row(u.cohort)
	for b := newDims; b != 0; b &= b - 1 {
		row[bits.TrailingZeros64(b)]++
	}
	if prev >= s.eventsBound {
		return Bounded
	}
	s.seen.codes[pos] = eventCode(e)
	s.cohorts.events[u.cohort]++
	sums := row[v1.numReach:]
	for b := dims; b != 0; b &= b - 1 {
		sums[bits.TrailingZeros64(b)]++
	}
	if e.Kind == schemas.KindCall && e.N > 0 {
		add := min(uint32(e.N), s.callBound-u.calls)
		u.calls += add
		row[v1.callSlot] += uint64(add)
	}
	return Counted
}

// markMinor flags u as a minor, once. A user who had events before is
// counted in retracted, for Partials to take them out.
func (s *WindowState) markMinor(u *userState) {
	if u.minor() {
		return
	}
	u.word |= minorFlag
	s.minors++
	if u.events() > 0 {
		s.retracted++
	}
}

// Partial is the additive aggregate of one finest cohort in one window of
// one partition. Values follows FeatureSetV1, slot for slot.
type Partial struct {
	Key    Key
	ID     uint64 // Key.ID(), the cohort_id
	Users  uint64 // distinct users; one user adds 1
	Events uint64 // counted events (deduplicated, within the bound); one user adds at most the events bound
	Values []uint64
}

// Users returns the number of distinct users counted in the window:
// minors are not.
func (s *WindowState) Users() int { return s.users.count - s.minors }

// Window returns the window this state aggregates.
func (s *WindowState) Window() Window { return s.window }

// MemoryBytes estimates the memory the state holds, on the Go heap and
// mapped outside it (slab.go), for the worker's memory bound and metrics.
func (s *WindowState) MemoryBytes() int {
	return s.users.bytes() + s.seen.bytes() + s.cohorts.bytes()
}

// Release drops the per-user state and the dedup set now and unmaps their
// memory. Call it last: the state is then unusable. Without it that
// memory goes back once the state is garbage collected, which may be
// much later.
func (s *WindowState) Release() {
	s.users.release()
	s.seen.release()
	s.minors, s.retracted = 0, 0
}

// keepAlive is runtime.KeepAlive, named for what it protects: the slabs
// of s while a loop reads them (slab.go).
func (s *WindowState) keepAlive() { runtime.KeepAlive(s) }
