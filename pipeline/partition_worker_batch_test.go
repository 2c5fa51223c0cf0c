package pipeline

import (
	"context"
	"errors"
	"maps"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/cohortline/cohortline/pipeline/pipelinetest"
)

// When one watermark closes several windows (the idle timeout, or an event
// far ahead), they are flushed one by one. A crash after the first flush
// and before the next must not lose the next: the resumed watermark may not
// make its messages late.
func TestCrashBetweenFlushesOfOneWatermark(t *testing.T) {
	cases := []struct {
		name string
		msgs []kafka.Message
	}{
		{"idle timeout closes two windows", []kafka.Message{
			eventMessage(0, user, 50*time.Minute, nil),
			eventMessage(1, user, 61*time.Minute, nil), // window 01:00 opens, 00:00 is still within its lateness
			eventMessage(2, "AnotherUserToken0001", 62*time.Minute, nil),
		}},
		{"an event far ahead closes two windows", []kafka.Message{
			eventMessage(0, user, 50*time.Minute, nil),
			eventMessage(1, user, 61*time.Minute, nil),
			eventMessage(2, "AnotherUserToken0001", 3*time.Hour, nil), // closes 00:00 and 01:00
			eventMessage(3, "AnotherUserToken0001", 3*time.Hour+time.Minute, nil),
		}},
	}
	cfg := testWorkerConfig(t, time.Hour, 5*time.Minute)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := pipelinetest.NewMemorySink()
			var committed int64
			if err := consumeThenIdle(t, cfg, c.msgs, 0, want, &committed); err != nil {
				t.Fatal(err)
			}
			sink := pipelinetest.NewMemorySink()
			sink.FailAt = 2 // the second flush of the batch: the process dies there
			committed = 0
			if err := consumeThenIdle(t, cfg, c.msgs, 0, sink, &committed); !errors.Is(err, pipelinetest.ErrInjected) {
				t.Fatalf("first run: %v, want the injected failure", err)
			}
			if err := consumeThenIdle(t, cfg, c.msgs, committed, sink, &committed); err != nil {
				t.Fatalf("restart from offset %d: %v", committed, err)
			}
			if !maps.EqualFunc(sink.Rows, want.Rows, maps.Equal) {
				t.Errorf("after a crash between two flushes: %d windows flushed, partials differ from the fault-free run's %d",
					len(sink.Rows), len(want.Rows))
			}
		})
	}
}

// consumeThenIdle runs a worker over msgs from offset from, then lets the
// partition go idle (the wall clock is far past the events).
func consumeThenIdle(t *testing.T, cfg WorkerConfig, msgs []kafka.Message, from int64, sink *pipelinetest.MemorySink, committed *int64) error {
	t.Helper()
	commit := func(_ context.Context, offset int64) error {
		*committed = offset
		return nil
	}
	w := NewWorker(cfg, "activity", 0, sink, &memoryDeadLetters{}, commit, &Counters{})
	if err := w.Resume(t.Context()); err != nil {
		return err
	}
	for _, m := range msgs[from:] {
		if err := w.Handle(t.Context(), m); err != nil {
			return err
		}
	}
	return w.Idle(t.Context(), time.Now())
}
