package cohorts

import (
	"math/rand/v2"
	"testing"
)

// keyStreams are the key sequences the tables must handle: PRF outputs
// (what the pipeline gives), and the adversarial ones tests may give
// (sequential, zero, clustered high bits).
var keyStreams = map[string]func(i int, r *rand.Rand) uint64{
	"random":     func(_ int, r *rand.Rand) uint64 { return r.Uint64() },
	"sequential": func(i int, _ *rand.Rand) uint64 { return uint64(i) }, // includes 0
	"high bits":  func(i int, _ *rand.Rand) uint64 { return uint64(i) << 40 },
	"few":        func(_ int, r *rand.Rand) uint64 { return r.Uint64N(300) },
}

// TestIDSetMatchesMap checks the dedup set against a Go map through
// growth, with repeats: an entry is an (owner, tag) pair, and the same
// tag of two owners is two entries.
func TestIDSetMatchesMap(t *testing.T) {
	for name, next := range keyStreams {
		t.Run(name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, 2))
			var s idSet
			type entry struct {
				owner uint32
				tag   uint64
			}
			ref := map[entry]bool{}
			entryOf := func(i int, r *rand.Rand) entry {
				tag := next(i, r)>>ownerBits | 1 // tags are never 0
				return entry{owner: uint32(i % 7), tag: tag}
			}
			for i := range 20000 {
				e := entryOf(i, r)
				if i%3 == 0 && len(ref) > 0 { // repeat a recent entry
					e = entryOf(i/2, rand.New(rand.NewPCG(1, 2)))
				}
				if _, got := s.insert(e.owner, e.tag); got != !ref[e] {
					t.Fatalf("insert #%d (%+v) = %v, want %v", i, e, got, !ref[e])
				}
				ref[e] = true
				if s.count != len(ref) {
					t.Fatalf("count %d, want %d", s.count, len(ref))
				}
			}
			for e := range ref {
				if _, fresh := s.insert(e.owner, e.tag); fresh {
					t.Fatalf("%+v lost after growth", e)
				}
			}
			if s.count > s.limit || s.limit > len(s.slots) {
				t.Errorf("count %d, limit %d, slots %d", s.count, s.limit, len(s.slots))
			}
		})
	}
}

// TestIDSetRelinkKeepsEntriesAndCodes: after relink every entry is found
// under its new owner, with its code, and not under the old one.
func TestIDSetRelinkKeepsEntriesAndCodes(t *testing.T) {
	var s idSet
	r := rand.New(rand.NewPCG(5, 6))
	type entry struct {
		owner uint32
		tag   uint64
	}
	var entries []entry
	for i := range 5000 {
		e := entry{owner: uint32(i % 100), tag: r.Uint64()>>ownerBits | 1}
		pos, _ := s.insert(e.owner, e.tag)
		s.codes[pos] = uint16(i)
		entries = append(entries, e)
	}
	remap := make([]uint32, 100)
	for i := range remap {
		remap[i] = uint32(1000 + 99 - i)
	}
	s.relink(remap)
	for i, e := range entries {
		pos, fresh := s.insert(remap[e.owner], e.tag)
		if fresh {
			t.Fatalf("entry %d not found under its new owner %d", i, remap[e.owner])
		}
		if s.codes[pos] != uint16(i) {
			t.Fatalf("entry %d has code %d after relink, want %d", i, s.codes[pos], i)
		}
	}
	if s.count != len(entries) {
		t.Fatalf("count %d after lookups, want %d", s.count, len(entries))
	}
}

func TestUserTableMatchesMap(t *testing.T) {
	for name, next := range keyStreams {
		t.Run(name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(3, 4))
			var tb userTable
			ref := map[UserID]uint32{}
			for i := range 20000 {
				u := UserID(next(i, r))
				st, isNew := tb.upsert(u)
				want, had := ref[u]
				if isNew == had {
					t.Fatalf("upsert #%d (%d): isNew %v, had %v", i, u, isNew, had)
				}
				if had && st.calls != want {
					t.Fatalf("user %d: state %d, want %d", u, st.calls, want)
				}
				st.calls++
				ref[u] = st.calls
			}
			if tb.count != len(ref) {
				t.Fatalf("count %d, want %d", tb.count, len(ref))
			}
			n := 0
			for i, st := range tb.all() {
				if tb.used(i) {
					n++
					if st.calls == 0 {
						t.Fatalf("slot %d used but empty", i)
					}
				}
			}
			if n != len(ref) {
				t.Errorf("all() holds %d users, want %d", n, len(ref))
			}
		})
	}
}

// TestReserve: a reserved table does not grow before it holds what was
// reserved, and growth reaches the same sizes as Reserve.
func TestReserve(t *testing.T) {
	var s idSet
	s.reserve(100000)
	size := len(s.slots)
	for i := range 100000 {
		s.insert(1, uint64(i+1))
	}
	if len(s.slots) != size {
		t.Errorf("grew from %d to %d slots after reserving", size, len(s.slots))
	}
	var g idSet
	for i := range 100000 {
		g.insert(1, uint64(i+1))
	}
	if len(g.slots) != size {
		t.Errorf("organic growth reached %d slots, Reserve %d", len(g.slots), size)
	}
}
