package pipeline

import (
	"context"
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
