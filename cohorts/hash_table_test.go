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
// growth, with repeats and the zero key.
func TestIDSetMatchesMap(t *testing.T) {
	for name, next := range keyStreams {
		t.Run(name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, 2))
			var s idSet
			ref := map[uint64]bool{}
			for i := range 20000 {
				k := next(i, r)
				if i%3 == 0 && len(ref) > 0 { // repeat a recent key
					k = next(i/2, rand.New(rand.NewPCG(1, 2)))
				}
				if got, want := s.insert(k), !ref[k]; got != want {
					t.Fatalf("insert #%d (%d) = %v, want %v", i, k, got, want)
				}
				ref[k] = true
				if s.count != len(ref) {
					t.Fatalf("count %d, want %d", s.count, len(ref))
				}
			}
			for k := range ref {
				if s.insert(k) {
					t.Fatalf("%d lost after growth", k)
				}
			}
			if s.count > s.limit || s.limit > len(s.slots) {
				t.Errorf("count %d, limit %d, slots %d", s.count, s.limit, len(s.slots))
			}
		})
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
		s.insert(uint64(i))
	}
	if len(s.slots) != size {
		t.Errorf("grew from %d to %d slots after reserving", size, len(s.slots))
	}
	var g idSet
	for i := range 100000 {
		g.insert(uint64(i))
	}
	if len(g.slots) != size {
		t.Errorf("organic growth reached %d slots, Reserve %d", len(g.slots), size)
	}
}
