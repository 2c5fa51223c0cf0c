package cohorts

import (
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/cohortline/cohortline/schemas"
	"github.com/cohortline/cohortline/schemas/synth"
)

// benchLines are realistic messages: synth's default mix (100k users,
// skewed activity, 24h, every fault), 1M records, generated once.
var benchLines [][]byte

func loadBenchLines(b *testing.B) [][]byte {
	if benchLines == nil {
		benchLines = generateLines(b, synth.DefaultConfig())
	}
	return benchLines
}

// worker is the per-event path of a partition worker: decode, re-key,
// route to the event's window, Add.
type worker struct {
	spec    Spec
	dec     schemas.Decoder
	ev      schemas.Event
	rekey   *Rekeyer
	states  map[Window]*WindowState
	last    *WindowState // most events go to the window of the one before
	reserve bool         // size a new window like the newest one before it
}

func newWorker(b *testing.B, spec Spec, reserve bool) *worker {
	return &worker{spec: spec, rekey: mustRekeyer(b, testSecret), states: map[Window]*WindowState{}, reserve: reserve}
}

func (w *worker) handle(line []byte) {
	if w.dec.Decode(line, &w.ev) != nil {
		return // the pipeline sends it to the DLQ
	}
	w.add(w.rekey.User(w.ev.User), w.rekey.EventID(w.ev.ID), &w.ev)
}

func (w *worker) add(u UserID, id uint64, e *schemas.Event) Outcome {
	s := w.last
	if s == nil || !s.window.Contains(e.TS) {
		win := w.spec.WindowOf(e.TS)
		if s = w.states[win]; s == nil {
			s = NewWindowState(&w.spec, win)
			if w.reserve && w.last != nil {
				s.Reserve(w.last.Size())
			}
			w.states[win] = s
		}
		w.last = s
	}
	return s.Add(u, id, e)
}

// reset drops every window, as closing them would; the newest stays the
// size hint of the next.
func (w *worker) reset() { clear(w.states) }

func reportEventsPerSecond(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// reserveModes are the two ways a worker may open a window: sized like
// the window before (steady state), or empty, growing as events come.
var reserveModes = []struct {
	name    string
	reserve bool
}{{"reserve=previous", true}, {"reserve=none", false}}

// BenchmarkDecodeRekeyAdd is the whole per-event path on realistic lines
// (target: ≥ 2M events/s per core, 0 allocs/op). Each pass over the data
// starts from empty windows, so opening windows is included.
func BenchmarkDecodeRekeyAdd(b *testing.B) {
	lines := loadBenchLines(b)
	for _, mode := range reserveModes {
		b.Run(mode.name, func(b *testing.B) {
			w := newWorker(b, DefaultSpec(), mode.reserve)
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if i%len(lines) == 0 {
					w.reset()
				}
				w.handle(lines[i%len(lines)])
			}
			reportEventsPerSecond(b)
		})
	}
}

// BenchmarkDecode is the decoder alone on the same lines, to split the
// figure above.
func BenchmarkDecode(b *testing.B) {
	lines := loadBenchLines(b)
	var d schemas.Decoder
	var e schemas.Event
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		_ = d.Decode(lines[i%len(lines)], &e)
	}
	reportEventsPerSecond(b)
}

// BenchmarkRekeyAdd is the path after decoding: re-key, route, Add.
func BenchmarkRekeyAdd(b *testing.B) {
	evs := decodeAll(b, loadBenchLines(b))
	users, ids := make([][]byte, len(evs)), make([][]byte, len(evs))
	for i := range evs {
		users[i], ids[i] = []byte(evs[i].user), []byte(evs[i].id)
	}
	for _, mode := range reserveModes {
		b.Run(mode.name, func(b *testing.B) {
			w := newWorker(b, DefaultSpec(), mode.reserve)
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				j := i % len(evs)
				if j == 0 {
					w.reset()
				}
				w.add(w.rekey.User(users[j]), w.rekey.EventID(ids[j]), &evs[j].e)
			}
			reportEventsPerSecond(b)
		})
	}
}

// memUsers and memEventsPerUser size the memory benchmark: one window
// with 1M active users of ~5 events each.
const (
	memUsers         = 1_000_000
	memEventsPerUser = 5
)

// BenchmarkWindowStateMemory reports the memory per active user of one
// window holding memUsers users × memEventsPerUser events (target: ≤ 100
// bytes/user, dedup set and its journal included). bytes/user is what the
// state holds, mapped outside the Go heap (slab.go) or on it
// (MemoryBytes); heap-bytes/user is the HeapAlloc delta after GC, which
// for the big tables is only their headers. Event attributes come from the
// realistic data, so users spread over the cohorts a real window has.
// "grown" lets the tables grow as events arrive; "reserved" sizes them
// first (Reserve); "go-maps" is the per-user and dedup state in Go maps
// instead, for comparison (all of it on the heap).
func BenchmarkWindowStateMemory(b *testing.B) {
	templates := memTemplates(b)
	spec := DefaultSpec()
	for _, mode := range []string{"grown", "reserved", "go-maps"} {
		b.Run(mode, func(b *testing.B) {
			var state, heap float64
			cohorts := 0
			for b.Loop() {
				r := rand.New(rand.NewPCG(7, 8))
				before := heapAfterGC()
				var keep any
				if mode == "go-maps" {
					keep = fillGoMaps(r)
				} else {
					s := NewWindowState(&spec, testWindow)
					if mode == "reserved" {
						s.Reserve(Size{Users: memUsers, Events: memUsers * memEventsPerUser})
					}
					fillState(s, r, templates)
					cohorts = s.Size().Cohorts
					state = float64(s.MemoryBytes())
					keep = s
				}
				heap = float64(heapAfterGC() - before)
				runtime.KeepAlive(keep)
				if mode == "go-maps" {
					state = heap
				}
			}
			b.ReportMetric(state/memUsers, "bytes/user")
			b.ReportMetric(state/(memUsers*memEventsPerUser), "bytes/event")
			b.ReportMetric(heap/memUsers, "heap-bytes/user")
			if cohorts > 0 {
				b.ReportMetric(float64(cohorts), "cohorts")
			}
		})
	}
}

// memTemplates returns the counted events of the realistic data, moved
// into testWindow: the attributes of the memory benchmark's events.
func memTemplates(b *testing.B) []schemas.Event {
	var out []schemas.Event
	for _, ev := range decodeAll(b, loadBenchLines(b)) {
		if ev.e.Age != schemas.AgeMinor && !ev.e.Category.Sensitive() {
			ev.e.TS = testWindow.Start
			out = append(out, ev.e)
		}
	}
	return out
}

// fillState adds memEventsPerUser events of each of memUsers users, in an
// interleaved order as a real window sees them.
func fillState(s *WindowState, r *rand.Rand, templates []schemas.Event) {
	users := make([]UserID, memUsers)
	for i := range users {
		users[i] = UserID(r.Uint64())
	}
	for round := range memEventsPerUser {
		for i, u := range users {
			s.Add(u, r.Uint64(), &templates[(i*memEventsPerUser+round)%len(templates)])
		}
	}
	if s.Users() != memUsers {
		panic("BUG: memory benchmark lost users")
	}
}

// fillGoMaps builds the same per-user and dedup state in Go maps.
func fillGoMaps(r *rand.Rand) any {
	type state struct {
		word          uint64
		cohort, calls uint32
	}
	users := make(map[UserID]state)
	seen := make(map[uint64]struct{})
	ids := make([]UserID, memUsers)
	for i := range ids {
		ids[i] = UserID(r.Uint64())
	}
	for range memEventsPerUser {
		for _, u := range ids {
			seen[r.Uint64()] = struct{}{}
			st := users[u]
			st.word++
			users[u] = st
		}
	}
	return [2]any{users, seen}
}

func heapAfterGC() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
