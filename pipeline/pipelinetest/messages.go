package pipelinetest

import (
	"slices"
	"sync"
	"testing"

	"github.com/segmentio/kafka-go"

	"github.com/cohortline/cohortline/schemas/synth"
)

var (
	benchOnce     sync.Once
	benchMessages []kafka.Message
	benchErr      error
)

// BenchMessages are one partition's messages: synth's default mix of
// 300,000 events over a day (every fault included), generated once per
// test binary. Callers must not modify them.
func BenchMessages(tb testing.TB) []kafka.Message {
	tb.Helper()
	benchOnce.Do(func() {
		cfg := synth.DefaultConfig()
		cfg.Events = 300_000
		g, err := synth.New(cfg)
		if err != nil {
			benchErr = err
			return
		}
		for rec, ok := g.Next(); ok; rec, ok = g.Next() {
			benchMessages = append(benchMessages, kafka.Message{
				Topic: "activity", Offset: int64(len(benchMessages)),
				Key: slices.Clone(rec.Key), Value: slices.Clone(rec.Line),
			})
		}
	})
	if benchErr != nil {
		tb.Fatal(benchErr)
	}
	return benchMessages
}
