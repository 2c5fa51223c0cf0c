package cohorts

import "math/bits"

// The window state keeps two open-addressing tables (user_state.go,
// id_set.go) instead of Go maps: a map[UserID]struct{…} and a
// map[uint64]struct{} cost about twice the bytes per entry (measured in
// BenchmarkWindowStateMemory), and memory per active user is what sizes
// a worker.
//
// Both tables share these choices:
//   - Keys are 64-bit PRF outputs (Rekeyer), stored through mix, a
//     bijection, so that distinct keys stay distinct and a caller passing
//     small or sequential ids (tests) still spreads over the table. The
//     mixed key 0 marks an empty slot; the one key that mixes to 0 (0
//     itself) lives in a spare slot at the end.
//   - The home slot is "fastrange", hi64(key·n): it works for any table
//     size n, not just powers of two, so a large table grows by 4/3 rather than
//     doubling, which keeps the average load higher (memory), and it is
//     monotonic in the key, so a rehash that walks the old table in order
//     writes the new one nearly sequentially (cheap, cache-friendly).
//   - Linear probing, at most 7/8 full. At that load an insert probes
//     about 30 slots, but of 8 or 24 bytes, so a few adjacent cache lines.

// mix is the splitmix64 finalizer: a bijection on uint64 with mix(0) = 0.
func mix(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// home returns the first probe slot of mixed key k in a table of n slots.
func home(k uint64, n int) int {
	hi, _ := bits.Mul64(k, uint64(n))
	return int(hi)
}

// Sizing of both tables. Small tables double, which keeps the number of
// rehashes of a window low (a window starts empty); from rampSlots on,
// where memory counts, they grow by 4/3 so that the average load stays
// high: between 21/32 (just after growing) and 7/8.
const (
	minSlots   = 64
	rampSlots  = 1 << 16
	maxLoadNum = 7 // at most 7/8 of the slots in use
	maxLoadDen = 8
	growNum    = 4 // grow by 4/3 from rampSlots on
	growDen    = 3
)

// sizeFor returns the number of slots for a table that must hold at least
// n keys: the smallest size on the growth sequence from minSlots whose
// load limit is at least n, so that Reserve and organic growth agree.
func sizeFor(n int) int {
	s := minSlots
	for limitOf(s) < n {
		if s < rampSlots {
			s *= 2
		} else {
			s = s * growNum / growDen
		}
	}
	return s
}

// limitOf is how many keys a table of s slots takes before it grows.
func limitOf(s int) int { return s * maxLoadNum / maxLoadDen }
