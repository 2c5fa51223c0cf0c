package pipeline

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"testing"
	"time"
	"weak"

	"github.com/segmentio/kafka-go"

	"github.com/cohortline/cohortline/cohorts"
	"github.com/cohortline/cohortline/schemas/synth"

	"github.com/cohortline/cohortline/pipeline/pipelinetest"
)

type memoryDeadLetters struct{ pending, durable []DeadLetter }

func (d *memoryDeadLetters) Add(_ context.Context, dl DeadLetter) error {
	d.pending = append(d.pending, dl)
	return nil
}

func (d *memoryDeadLetters) Flush(context.Context) error {
	d.durable = append(d.durable, d.pending...)
	d.pending = nil
	return nil
}

// testMessages generates one partition's worth of messages: every fault the
// generator makes (late, out-of-order, duplicate, bad records) included.
func testMessages(t *testing.T, events int64) []kafka.Message {
	t.Helper()
	cfg := synth.DefaultConfig()
	cfg.Seed, cfg.Users, cfg.Events, cfg.Span = 11, 400, events, 6*time.Hour
	cfg.Bad = 0.01
	g, err := synth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var msgs []kafka.Message
	for rec, ok := g.Next(); ok; rec, ok = g.Next() {
		msgs = append(msgs, kafka.Message{
			Topic: "activity", Partition: 0, Offset: int64(len(msgs)),
			Key: slices.Clone(rec.Key), Value: slices.Clone(rec.Line),
		})
	}
	return msgs
}

func testWorkerConfig(t *testing.T, window, lateness time.Duration) WorkerConfig {
	t.Helper()
	spec := cohorts.DefaultSpec()
	spec.Window, spec.AllowedLateness = window, lateness
	spec.Bounds.Events = 20 // small enough to bite
	rekey, err := cohorts.NewRekeyer([]byte("test secret, 32 bytes long......"))
	if err != nil {
		t.Fatal(err)
	}
	return WorkerConfig{Spec: &spec, Rekey: rekey, MaxOutOfOrder: 10 * time.Second}
}

// consume runs a worker over msgs from offset from, as a consumer would
// after reading the committed offset, and returns the worker's error. At
// the end it waits for the flushes in flight and writes its dead letters,
// unless killed: then the flushes are abandoned, some stored and some not,
// as a kill -9 leaves them.
func consume(t *testing.T, cfg WorkerConfig, msgs []kafka.Message, from int64, sink *pipelinetest.MemorySink, dead DeadLetters, committed *int64, commitFailAt int, killed bool) error {
	t.Helper()
	commits := 0
	commit := func(_ context.Context, offset int64) error {
		commits++
		if commits == commitFailAt {
			return pipelinetest.ErrInjected
		}
		if offset < *committed {
			t.Fatalf("commit went back from %d to %d", *committed, offset)
		}
		*committed = offset
		return nil
	}
	w := NewWorker(cfg, "activity", 0, sink, dead, commit, &Counters{})
	defer w.Release()
	if err := w.Resume(t.Context()); err != nil {
		return err
	}
	for _, m := range msgs[from:] {
		if err := w.Handle(t.Context(), m); err != nil {
			return err
		}
	}
	if killed {
		return nil
	}
	if err := w.settle(t.Context()); err != nil {
		return err
	}
	// A process that goes on writes its dead letters sooner or later. Where
	// the last commit falls depends on when the acknowledgements come, so
	// the dead letters after it would differ from run to run: write them,
	// and every rejected message counts once, whatever the timing.
	return dead.Flush(t.Context())
}

// A crash anywhere (mid-window, right after a sink write and before its
// commit) followed by a restart from the committed offset leaves exactly
// what a fault-free run leaves.
func TestCrashAndResumeEqualsFaultFreeRun(t *testing.T) {
	msgs := testMessages(t, 30000)
	// Hour windows keep at most two open at once; minute windows with five
	// minutes of lateness keep several open, where an out-of-order event can
	// open an older window after a newer one.
	// A watermark quorum of 1 follows every countable event; the default
	// waits for three users. With flushes in flight (pipelined, flusher.go)
	// a crash also lands while windows are written behind the reading.
	for _, spec := range []struct {
		window, lateness time.Duration
		quorum           int
	}{{time.Hour, 5 * time.Minute, 1}, {time.Minute, 5 * time.Minute, 1}, {time.Hour, 5 * time.Minute, 3}, {time.Minute, 5 * time.Minute, 3}} {
		for _, inFlight := range []int{1, 2, 4} {
			t.Run(fmt.Sprintf("window %v lateness %v quorum %d in flight %d", spec.window, spec.lateness, spec.quorum, inFlight), func(t *testing.T) {
				cfg := testWorkerConfig(t, spec.window, spec.lateness)
				cfg.WatermarkUsers, cfg.MaxInFlightFlushes = spec.quorum, inFlight
				testCrashAndResume(t, cfg, msgs)
			})
		}
	}
}

func testCrashAndResume(t *testing.T, cfg WorkerConfig, msgs []kafka.Message) {

	want, wantDead := pipelinetest.NewMemorySink(), &memoryDeadLetters{}
	var committed int64
	if err := consume(t, cfg, msgs, 0, want, wantDead, &committed, 0, false); err != nil {
		t.Fatal(err)
	}
	if len(want.Flushes) < 4 {
		t.Fatalf("fault-free run flushed %d windows; the test needs several", len(want.Flushes))
	}

	crashes := []struct {
		name                 string
		stopAfter            int // messages handled before a kill -9 (0: none)
		sinkFailAt, commitAt int // injected failures (0: none)
	}{
		{name: "mid-window early", stopAfter: 1234},
		{name: "mid-window late", stopAfter: 23456},
		{name: "sink write fails", sinkFailAt: 3},
		{name: "after a sink write, before its commit", commitAt: 2},
		{name: "after several windows, before a commit", commitAt: 4},
	}
	for _, c := range crashes {
		t.Run(c.name, func(t *testing.T) {
			sink, dead := pipelinetest.NewMemorySink(), &memoryDeadLetters{}
			sink.FailAt = c.sinkFailAt
			var committed int64
			first := msgs
			if c.stopAfter > 0 {
				first = msgs[:c.stopAfter]
			}
			err := consume(t, cfg, first, 0, sink, dead, &committed, c.commitAt, c.stopAfter > 0)
			if c.stopAfter == 0 && !errors.Is(err, pipelinetest.ErrInjected) {
				t.Fatalf("first run: %v, want the injected failure", err)
			}
			dead.pending = nil // what was not flushed dies with the process
			if err := consume(t, cfg, msgs, committed, sink, dead, &committed, 0, false); err != nil {
				t.Fatalf("restart from offset %d: %v", committed, err)
			}
			if !maps.EqualFunc(sink.Rows, want.Rows, maps.Equal) {
				t.Errorf("partials after crash and restart differ from the fault-free run (%d vs %d windows)", len(sink.Rows), len(want.Rows))
			}
			if got, want := deadOffsets(dead.durable), deadOffsets(wantDead.durable); !slices.Equal(got, want) {
				t.Errorf("dead-lettered offsets %v, want %v (each at least once)", got, want)
			}
		})
	}
}

// deadOffsets are the distinct offsets dead-lettered, sorted.
func deadOffsets(dls []DeadLetter) []int64 {
	var out []int64
	for _, dl := range dls {
		out = append(out, dl.Offset)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// TestClosedWindowStateIsDropped: privacy invariant 2. Once a window is
// flushed nothing keeps its per-user state (the re-keyed tokens) alive:
// after a garbage collection, a weak pointer to it is nil, while the state
// of a window still open survives.
func TestClosedWindowStateIsDropped(t *testing.T) {
	cfg := testWorkerConfig(t, time.Hour, 0)
	msgs := testMessages(t, 20_000)
	sink := pipelinetest.NewMemorySink()
	w := NewWorker(cfg, "activity", 0, sink, &memoryDeadLetters{}, func(context.Context, int64) error { return nil }, &Counters{})
	states := map[cohorts.Window]weak.Pointer[cohorts.WindowState]{}
	for _, m := range msgs {
		if err := w.Handle(t.Context(), m); err != nil {
			t.Fatal(err)
		}
		for _, ow := range w.open {
			if _, ok := states[ow.window]; !ok {
				states[ow.window] = weak.Make(ow.state)
			}
		}
	}
	runtime.GC()
	closed, open := 0, 0
	for win, p := range states {
		alive := p.Value() != nil
		if w.spec.Closes(win, w.wm.value) {
			closed++
			if alive {
				t.Errorf("window %s was flushed but its user state is still reachable", win)
			}
		} else {
			open++
			if !alive {
				t.Errorf("window %s is open but its state was collected", win)
			}
		}
	}
	if closed == 0 || open == 0 || len(sink.Flushes) == 0 {
		t.Fatalf("%d closed and %d open windows, %d flushes: the test proves nothing", closed, open, len(sink.Flushes))
	}
	runtime.KeepAlive(w)
}

// TestClosedWindowMemoryIsUnmapped: the big tables of a window live
// outside the Go heap (cohorts/slab.go), so the garbage collector does not
// give them back: the worker must. Every flush unmaps the flushed
// window's tables, and release unmaps those of the windows still open.
func TestClosedWindowMemoryIsUnmapped(t *testing.T) {
	gen := synth.DefaultConfig()
	gen.Seed, gen.Users, gen.Events, gen.Span = 12, 40_000, 120_000, 3*time.Hour
	g, err := synth.New(gen)
	if err != nil {
		t.Fatal(err)
	}
	cfg := testWorkerConfig(t, time.Hour, 0)
	sink := pipelinetest.NewMemorySink()
	w := NewWorker(cfg, "activity", 0, sink, &memoryDeadLetters{}, func(context.Context, int64) error { return nil }, &Counters{})
	base := cohorts.SlabBytes()
	offset := int64(0)
	for rec, ok := g.Next(); ok; rec, ok = g.Next() {
		mapped, flushes := cohorts.SlabBytes(), len(sink.Flushes)
		if err := w.Handle(t.Context(), kafka.Message{Offset: offset, Key: rec.Key, Value: rec.Line}); err != nil {
			t.Fatal(err)
		}
		offset++
		// Windows are an hour of ordered events: when one closes, the only
		// other open window has just begun, so if anything was mapped the
		// flushed window held it. (The first window is a few seconds long.)
		if len(sink.Flushes) > flushes && mapped > base && cohorts.SlabBytes() >= mapped {
			t.Fatalf("offset %d flushed a window, but mapped memory went from %d to %d bytes", offset, mapped, cohorts.SlabBytes())
		}
	}
	if len(sink.Flushes) == 0 || len(w.open) == 0 || cohorts.SlabBytes() == base {
		t.Fatalf("%d flushes, %d open windows, %d bytes mapped: the test proves nothing",
			len(sink.Flushes), len(w.open), cohorts.SlabBytes()-base)
	}
	w.Release()
	if got := cohorts.SlabBytes(); got != base || len(w.open) != 0 {
		t.Errorf("after release: %d open windows, %d bytes still mapped", len(w.open), got-base)
	}
}
