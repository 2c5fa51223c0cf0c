package cohorts

import (
	"fmt"
	"math/bits"
	"runtime"

	"github.com/cohortline/cohortline/schemas"
)

// WindowState aggregates the events of one event-time window in one
// partition worker: per-user state (cohort, event count, reach set, call
// seconds), the dedup set of event ids, and the additive partials of each
// finest cohort. It is exact within the partition, and partials of
// different partitions add up exactly, because each user's events all land
// in one partition (DESIGN.md, "Why per-partition state works").
//
// Semantics of Add, which an independent reference computation in the
// tests reproduces exactly:
//
//   - Exclusions first. An event of age 13-17 is Minor and one with a
//     sensitive business category is Sensitive: neither creates nor
//     touches any state, nor enters the dedup set. Exclusion is per event:
//     a user's other events count (a user is never remembered as a minor,
//     because that would store state about a minor).
//   - Dedup. An event whose re-keyed id was already counted or bounded in
//     this window is Duplicate and changes nothing, whatever its content.
//     Ids are deduplicated within the window and partition only.
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
}

// NewWindowState returns the empty state of window w under spec, which
// must be valid. The spec is copied.
func NewWindowState(spec *Spec, w Window) *WindowState {
	return &WindowState{
		spec:        *spec,
		window:      w,
		eventsBound: uint64(effectiveEventsBound(*spec)),
		callBound:   effectiveCallBound(*spec),
	}
}

// Size is how much a window's state holds: what Reserve takes.
type Size struct {
	Users   int // distinct users
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
	s.users.reserve(n.Users)
	s.seen.reserve(n.Events)
	s.cohorts.reserve(n.Cohorts)
}

// Add aggregates one decoded event of user (Rekeyer.User of e.User) with
// re-keyed id eventID (Rekeyer.EventID of e.ID), as the WindowState doc
// describes, and says what it did. e.TS must fall in the window (the
// pipeline routes by Spec.WindowOf); otherwise Add panics. It does not
// allocate, except when a table or the cohort list grows.
func (s *WindowState) Add(user UserID, eventID uint64, e *schemas.Event) Outcome {
	if e.Age == schemas.AgeMinor {
		return Minor
	}
	if int(e.Category) < len(v1.sensitive) && v1.sensitive[e.Category] {
		return Sensitive
	}
	if !s.window.Contains(e.TS) {
		panic(fmt.Sprintf("BUG: event at %d added to window [%d, %d)", e.TS, s.window.Start, s.window.End))
	}
	uk, ui := s.users.prepare(user)
	first := s.users.slots[ui].key // load early; see prepare
	if !s.seen.insert(eventID) {
		return Duplicate
	}
	u, isNew := s.users.upsertAt(uk, ui, first)
	if isNew {
		u.cohort = s.cohorts.of(KeyOf(s.spec, e))
		s.cohorts.users[u.cohort]++
	}
	dims := v1.reachDims(e)
	prev := u.word >> eventsShift
	fresh := dims &^ u.word
	u.word |= dims
	if prev < MaxEventsBound {
		u.word += countOne
	}
	row := s.cohorts.row(u.cohort)
	for b := fresh; b != 0; b &= b - 1 {
		row[bits.TrailingZeros64(b)]++
	}
	if prev >= s.eventsBound {
		return Bounded
	}
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

// Partial is the additive aggregate of one finest cohort in one window of
// one partition. Values follows FeatureSetV1, slot for slot.
type Partial struct {
	Key    Key
	ID     uint64 // Key.ID(), the cohort_id
	Users  uint64 // distinct users; one user adds 1
	Events uint64 // counted events (deduplicated, within the bound); one user adds at most the events bound
	Values []uint64
}

// Partials returns one Partial per finest cohort with at least one user,
// ordered by cohort id (then key, should two ids collide), so that
// identical input gives identical output. It does not change the state:
// calling it twice gives the same result. The Values slices share one
// allocation, owned by the caller.
func (s *WindowState) Partials() []Partial {
	c := &s.cohorts
	vals := append([]uint64(nil), c.vals...)
	n := uint32(v1.numValues)
	all := s.users.all()
	for i := range all {
		if !s.users.used(i) {
			continue
		}
		u := &all[i]
		vals[u.cohort*n+uint32(v1.histSlot+histBucket(u.events()))]++
	}
	runtime.KeepAlive(s) // its slab holds all (slab.go)
	order, ids := c.byID()
	out := make([]Partial, len(order))
	for j, i := range order {
		out[j] = Partial{
			Key:    c.keys[i],
			ID:     ids[i],
			Users:  c.users[i],
			Events: c.events[i],
			Values: vals[i*n : (i+1)*n : (i+1)*n],
		}
	}
	return out
}

// Release drops the per-user state and the dedup set now and unmaps their
// memory. Call it last: the state is then unusable. Without it that
// memory goes back once the state is garbage collected, which may be
// much later.
func (s *WindowState) Release() {
	s.users.release()
	s.seen.release()
}

// Users returns the number of distinct users counted in the window.
func (s *WindowState) Users() int { return s.users.count }

// Window returns the window this state aggregates.
func (s *WindowState) Window() Window { return s.window }

// MemoryBytes estimates the memory the state holds, on the Go heap and
// mapped outside it (slab.go), for the worker's memory bound and metrics.
func (s *WindowState) MemoryBytes() int {
	return s.users.bytes() + s.seen.bytes() + s.cohorts.bytes()
}
