package pipeline

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow"

	"github.com/cohortline/cohortline/cohorts"
	"github.com/cohortline/cohortline/pipeline/pipelinetest"

	"github.com/cohortline/cohortline/schemas"
)

// discardSink accepts every flush and keeps nothing: the benchmark measures
// the worker, not a sink.
type discardSink struct{}

func (discardSink) WritePartials(context.Context, arrow.Record, schemas.Flush) error { return nil }
func (discardSink) LastFlush(context.Context, string, int) (schemas.Flush, bool, error) {
	return schemas.Flush{}, false, nil
}

type discardDeadLetters struct{}

func (discardDeadLetters) Add(context.Context, DeadLetter) error { return nil }
func (discardDeadLetters) Flush(context.Context) error           { return nil }

// BenchmarkWorkerHandle is the partition worker's per-message path
// (decode, policy, re-key, window, watermark, counters, gauges) with hourly
// windows flushed to a sink that discards them: one op is one message.
// Each pass over the data starts with a fresh worker.
func BenchmarkWorkerHandle(b *testing.B) {
	msgs := pipelinetest.BenchMessages(b)
	spec := cohorts.DefaultSpec()
	rekey, err := cohorts.NewRekeyer([]byte("bench secret, 32 bytes long....."))
	if err != nil {
		b.Fatal(err)
	}
	cfg := WorkerConfig{Spec: &spec, Rekey: rekey, MaxOutOfOrder: 10 * time.Second, WatermarkUsers: 3} // the default
	commit := func(context.Context, int64) error { return nil }
	var w *Worker
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		j := i % len(msgs)
		if j == 0 {
			w = NewWorker(cfg, "activity", 0, discardSink{}, discardDeadLetters{}, commit, &Counters{})
		}
		if err := w.Handle(b.Context(), msgs[j]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// slowSink takes a fixed time per flush and keeps nothing: a ClickHouse
// insert as the worker sees it (the 5M-event benchmark's flushes took
// about 20 ms each, waits included).
type slowSink struct{ d time.Duration }

func (s slowSink) WritePartials(ctx context.Context, _ arrow.Record, _ schemas.Flush) error {
	t := time.NewTimer(s.d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (slowSink) LastFlush(context.Context, string, int) (schemas.Flush, bool, error) {
	return schemas.Flush{}, false, nil
}

// BenchmarkWorkerHandleSlowSink is BenchmarkWorkerHandle with flushes that
// take 20 ms, synchronous (in flight 1) and pipelined: how much of the
// sink's time the worker spends reading instead of waiting. One op is one
// message; each pass over the data ends with the flushes in flight
// acknowledged.
func BenchmarkWorkerHandleSlowSink(b *testing.B) {
	msgs := pipelinetest.BenchMessages(b)
	spec := cohorts.DefaultSpec()
	rekey, err := cohorts.NewRekeyer([]byte("bench secret, 32 bytes long....."))
	if err != nil {
		b.Fatal(err)
	}
	commit := func(context.Context, int64) error { return nil }
	for _, n := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("in_flight=%d", n), func(b *testing.B) {
			cfg := WorkerConfig{Spec: &spec, Rekey: rekey, MaxOutOfOrder: 10 * time.Second, WatermarkUsers: 3, MaxInFlightFlushes: n}
			var w *Worker
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				j := i % len(msgs)
				if j == 0 {
					if w != nil {
						if err := w.settle(b.Context()); err != nil {
							b.Fatal(err)
						}
						w.Release()
					}
					w = NewWorker(cfg, "activity", 0, slowSink{20 * time.Millisecond}, discardDeadLetters{}, commit, &Counters{})
				}
				if err := w.Handle(b.Context(), msgs[j]); err != nil {
					b.Fatal(err)
				}
			}
			if err := w.settle(b.Context()); err != nil {
				b.Fatal(err)
			}
			w.Release()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}
