package pipeline

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/segmentio/kafka-go"

	"github.com/cohortline/cohortline/cohorts"
	"github.com/cohortline/cohortline/schemas/synth"
)

// discardSink accepts every flush and keeps nothing: the benchmark measures
// the worker, not a sink.
type discardSink struct{}

func (discardSink) WritePartials(context.Context, arrow.Record, Flush) error { return nil }
func (discardSink) LastFlush(context.Context, string, int) (Flush, bool, error) {
	return Flush{}, false, nil
}

type discardDeadLetters struct{}

func (discardDeadLetters) Add(context.Context, DeadLetter) error { return nil }
func (discardDeadLetters) Flush(context.Context) error           { return nil }

// benchMessages are one partition's messages: synth's default mix over a
// day (every fault included), generated once.
var benchMessages []kafka.Message

func loadBenchMessages(b *testing.B) []kafka.Message {
	b.Helper()
	if benchMessages != nil {
		return benchMessages
	}
	cfg := synth.DefaultConfig()
	cfg.Events = 300_000
	g, err := synth.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	for rec, ok := g.Next(); ok; rec, ok = g.Next() {
		benchMessages = append(benchMessages, kafka.Message{
			Topic: "activity", Offset: int64(len(benchMessages)),
			Key: slices.Clone(rec.Key), Value: slices.Clone(rec.Line),
		})
	}
	return benchMessages
}

// BenchmarkWorkerHandle is the partition worker's per-message path
// (decode, policy, re-key, window, watermark, counters, gauges) with hourly
// windows flushed to a sink that discards them: one op is one message.
// Each pass over the data starts with a fresh worker.
func BenchmarkWorkerHandle(b *testing.B) {
	msgs := loadBenchMessages(b)
	spec := cohorts.DefaultSpec()
	rekey, err := cohorts.NewRekeyer([]byte("bench secret, 32 bytes long....."))
	if err != nil {
		b.Fatal(err)
	}
	cfg := workerConfig{Spec: &spec, Rekey: rekey, MaxOutOfOrder: 10 * time.Second, WatermarkUsers: 3} // the default
	commit := func(context.Context, int64) error { return nil }
	var w *partitionWorker
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		j := i % len(msgs)
		if j == 0 {
			w = newPartitionWorker(cfg, "activity", 0, discardSink{}, discardDeadLetters{}, commit, &Counters{})
		}
		if err := w.handle(b.Context(), msgs[j]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}
