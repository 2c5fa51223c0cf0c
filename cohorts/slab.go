package cohorts

import (
	"runtime"
	"sync/atomic"
	"unsafe"
)

// Why the big tables live outside the Go heap.
//
// A window's per-user table and dedup set are most of a worker's memory
// (about 24 and 8 bytes per slot) and hold no pointers. On the Go heap the
// garbage collector lets the heap grow to (1 + GOGC/100) times what it
// found live before it collects again, and the garbage of reading Kafka
// fills that headroom: with the default GOGC=100 a worker's resident
// memory settled near twice its state (144 bytes per active user against
// 55–64 live, issue 5's memory runs). Memory mapped straight from the
// kernel is not part of the heap, so the headroom only applies to the
// small rest, and nothing is scanned or swept in it either.
//
// The price is manual lifetime: a slab is unmapped by free, and a slice of
// it used after that faults. The rules that keep this safe are few, since
// only userTable and idSet hold slabs:
//   - a table frees its old slab only after rehashing out of it, and its
//     current one only in release, after which the table is empty;
//   - WindowState.Release releases both tables; the pipeline calls it when
//     it drops a window (flushed, or the worker stopped);
//   - a cleanup frees a slab whose owner became unreachable without a
//     release, so a missed Release leaks nothing for long. Code that loops
//     over a slab's slice must keep the owner alive to the end of the loop,
//     or the cleanup could run in the middle: the probe loops of insert
//     and upsertAt write the table's count, Partials ends with
//     runtime.KeepAlive, resize frees the old slab itself after its loop.
//
// Small tables (most windows start small, and tests) stay on the Go heap:
// a mapping costs two system calls and rounds up to a page.

// slabMinBytes is the size from which a table's slots are mapped.
const slabMinBytes = 256 << 10

// slab is one mapping of zeroed memory.
type slab struct {
	mem     []byte
	cleanup runtime.Cleanup
}

// slabBytes is the memory mapped by live slabs.
var slabBytes atomic.Int64

// SlabBytes returns the bytes of window state held outside the Go heap,
// for metrics and tests.
func SlabBytes() int64 { return slabBytes.Load() }

// allocSlots returns n zeroed Ts, T holding no pointers, and the slab
// holding them when they are outside the Go heap (nil otherwise).
func allocSlots[T any](n int) ([]T, *slab) {
	var zero T
	size := n * int(unsafe.Sizeof(zero))
	if size < slabMinBytes || !offHeapAvailable {
		return make([]T, n), nil
	}
	mem, err := mapAnon(size)
	if err != nil {
		// Out of address space or over a mapping limit: the heap may still
		// have room, and if not it fails with the runtime's clear message.
		return make([]T, n), nil
	}
	slabBytes.Add(int64(len(mem)))
	s := &slab{mem: mem}
	// The cleanup's argument is the mapping, not s: a reference to s
	// would keep it reachable forever.
	s.cleanup = runtime.AddCleanup(s, unmap, mem)
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(mem))), n), s
}

// free unmaps the slab now; s may be nil (a table on the Go heap). The
// caller drops every slice of it first and never calls free twice.
func (s *slab) free() {
	if s == nil {
		return
	}
	s.cleanup.Stop()
	unmap(s.mem)
	s.mem = nil
}

func unmap(mem []byte) {
	// munmap of a mapping made here fails only on a bad address, a bug
	// that would leak the mapping; SlabBytes then keeps counting it
	// rather than the cleanup goroutine crashing the process.
	if unmapAnon(mem) == nil {
		slabBytes.Add(-int64(len(mem)))
	}
}
