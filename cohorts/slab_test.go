package cohorts

import (
	"runtime"
	"testing"
	"time"

	"github.com/cohortline/cohortline/schemas/synth"
)

// bigTestData is a window of generated events large enough that both
// tables of its state leave the Go heap: about 30k users and 60k event ids.
func bigTestData(t testing.TB) []decodedEvent {
	t.Helper()
	cfg := synth.DefaultConfig()
	cfg.Users = 40_000
	cfg.Events = 80_000
	cfg.Span = 50 * time.Minute
	cfg.DriftShare = 0.3
	cfg.Duplicates = 0.05
	cfg.Bad = 0.001
	return decodeAll(t, generateLines(t, cfg))
}

// TestOffHeapStateMatchesReference: with its tables mapped outside the Go
// heap, growth included, the state still agrees exactly with the
// reference; Release gives every mapped byte back.
func TestOffHeapStateMatchesReference(t *testing.T) {
	evs := bigTestData(t)
	spec := DefaultSpec()
	before := SlabBytes()
	states, _ := runStates(t, spec, evs)
	ref, _ := refAggregate(spec, evs)
	mapped := int64(0)
	for _, s := range states {
		for _, sl := range []*slab{s.users.slab, s.seen.slab, s.seen.codesSlab} {
			if sl != nil {
				mapped += int64(len(sl.mem))
			}
		}
	}
	if mapped == 0 || SlabBytes()-before != mapped {
		t.Fatalf("tables mapped: %d bytes; SlabBytes grew by %d: the data does not take the tables off the heap, or the count is wrong",
			mapped, SlabBytes()-before)
	}
	for w, s := range states {
		compareWindow(t, w, s, ref[w])
		s.Release()
		if s.users.slab != nil || s.seen.slab != nil || s.seen.codesSlab != nil || s.Users() != 0 {
			t.Errorf("window %s: Release left %d users and slabs %p %p", w, s.Users(), s.users.slab, s.seen.slab)
		}
	}
	if got := SlabBytes(); got != before {
		t.Errorf("after Release of every state: %d bytes still mapped, want %d", got, before)
	}
}

// TestUnreleasedStateIsUnmapped: a state dropped without Release (a code
// path that forgot it) still gives its mapped tables back once it is
// garbage collected.
func TestUnreleasedStateIsUnmapped(t *testing.T) {
	evs := bigTestData(t)
	before := SlabBytes()
	func() {
		states, _ := runStates(t, DefaultSpec(), evs)
		if len(states) == 0 || SlabBytes() == before {
			t.Fatal("no table left the heap")
		}
	}()
	deadline := time.Now().Add(10 * time.Second)
	for SlabBytes() != before {
		if time.Now().After(deadline) {
			t.Fatalf("%d bytes still mapped 10 s after the states became garbage", SlabBytes()-before)
		}
		runtime.GC() // cleanups run on their own goroutine after a cycle
		time.Sleep(10 * time.Millisecond)
	}
}

// TestSmallTablesStayOnHeap: a table below slabMinBytes costs no mapping.
func TestSmallTablesStayOnHeap(t *testing.T) {
	var s idSet
	for i := range uint64(1000) {
		s.insert(0, i+1)
	}
	if s.slab != nil {
		t.Errorf("a %d-byte set was mapped", s.bytes())
	}
	s.reserve(slabMinBytes / 8)
	if s.slab == nil || len(s.slab.mem) < 8*len(s.slots) {
		t.Errorf("a %d-byte set is on the heap", s.bytes())
	}
	for i := range uint64(1000) {
		if _, fresh := s.insert(0, i+1); fresh {
			t.Fatalf("id %d lost in the move off the heap", i)
		}
	}
	s.release()
	if s.count != 0 || s.slots != nil {
		t.Errorf("release left %d ids", s.count)
	}
}
