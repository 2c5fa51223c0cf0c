package pipeline

import (
	"context"
	"sync"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/segmentio/kafka-go"

	"github.com/cohortline/cohortline/pipeline/pipelinetest"
	"github.com/cohortline/cohortline/schemas"
)

// gatedSink holds every write until the test answers it: a ClickHouse that
// acknowledges late, fails or never answers, as the test says. What it
// stores is what a reader of the real sink would see.
type gatedSink struct {
	writes chan *gatedWrite

	mu     sync.Mutex
	calls  int // WritePartials calls, answered or not
	stored *pipelinetest.MemorySink
}

// gatedWrite is one write waiting for its answer.
type gatedWrite struct {
	flush  schemas.Flush
	answer chan error
}

func newGatedSink() *gatedSink {
	return &gatedSink{writes: make(chan *gatedWrite), stored: pipelinetest.NewMemorySink()}
}

func (s *gatedSink) WritePartials(ctx context.Context, rec arrow.Record, f schemas.Flush) error {
	s.mu.Lock()
	s.calls++
	s.mu.Unlock()
	g := &gatedWrite{flush: f, answer: make(chan error)}
	select {
	case s.writes <- g:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-g.answer:
		if err != nil {
			return err
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.stored.WritePartials(ctx, rec, f)
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *gatedSink) LastFlush(ctx context.Context, topic string, partition int) (schemas.Flush, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stored.LastFlush(ctx, topic, partition)
}

func (s *gatedSink) callCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// durable reports whether f is stored.
func (s *gatedSink) durable(f schemas.Flush) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	got, ok := s.stored.Flushes[[2]int64{f.WindowStart, int64(f.Partition)}]
	return ok && got.Version == f.Version
}

// orderSink is a MemorySink that also keeps its flushes in call order.
type orderSink struct {
	*pipelinetest.MemorySink
	order []schemas.Flush
}

func (s *orderSink) WritePartials(ctx context.Context, rec arrow.Record, f schemas.Flush) error {
	s.order = append(s.order, f)
	return s.MemorySink.WritePartials(ctx, rec, f)
}

// syncReference runs the synchronous worker over msgs, then drains it: the
// flushes in order, and the rows a reader sees.
func syncReference(t *testing.T, cfg WorkerConfig, msgs []kafka.Message) *orderSink {
	t.Helper()
	cfg.MaxInFlightFlushes = 1
	sink := &orderSink{MemorySink: pipelinetest.NewMemorySink()}
	w := NewWorker(cfg, "activity", 0, sink, &memoryDeadLetters{}, func(context.Context, int64) error { return nil }, &Counters{})
	defer w.Release()
	for _, m := range msgs {
		if err := w.Handle(t.Context(), m); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Drain(t.Context()); err != nil {
		t.Fatal(err)
	}
	if len(sink.order) < 10 {
		t.Fatalf("the reference flushed %d windows; the test needs many", len(sink.order))
	}
	return sink
}

// pipelinedRun is a pipelined worker reading msgs on a goroutine of its
// own, then draining, as a consumer drives it; commits are checked as they
// come against what the sink has stored.
type pipelinedRun struct {
	w        *Worker
	counters *Counters
	mem      *memory.CheckedAllocator
	done     chan struct{}
	err      error // once done is closed

	mu      sync.Mutex
	commits []int64
}

func startPipelined(t *testing.T, ctx context.Context, cfg WorkerConfig, msgs []kafka.Message, sink *gatedSink, ref []schemas.Flush) *pipelinedRun {
	r := &pipelinedRun{counters: &Counters{}, mem: memory.NewCheckedAllocator(memory.NewGoAllocator()), done: make(chan struct{})}
	commit := func(_ context.Context, offset int64) error {
		// Never past a message of a window not yet stored: every window
		// that starts before the commit must be durable now.
		for _, f := range ref {
			if f.FirstOffset < offset && !sink.durable(f) {
				t.Errorf("committed offset %d before window %d (first offset %d) was stored", offset, f.WindowStart, f.FirstOffset)
			}
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		r.commits = append(r.commits, offset)
		return nil
	}
	r.w = NewWorker(cfg, "activity", 0, sink, &memoryDeadLetters{}, commit, r.counters)
	r.w.mem = r.mem
	go func() {
		defer close(r.done)
		defer r.w.Release()
		if r.err = r.w.Resume(ctx); r.err != nil {
			return
		}
		for _, m := range msgs {
			if r.err = r.w.Handle(ctx, m); r.err != nil {
				return
			}
		}
		r.err = r.w.Drain(ctx)
	}()
	return r
}

func (r *pipelinedRun) lastCommit() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.commits) == 0 {
		return -1
	}
	return r.commits[len(r.commits)-1]
}
