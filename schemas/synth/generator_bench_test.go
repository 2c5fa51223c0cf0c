package synth

import (
	"bufio"
	"context"
	"io"
	"testing"
)

// BenchmarkGenerate measures generation and NDJSON encoding into a
// discarding bufio.Writer (the file path minus the disk): one op is one
// record.
func BenchmarkGenerate(b *testing.B) {
	cfg := DefaultConfig()
	cfg.Events = int64(b.N)
	g, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(io.Discard, 1<<20)
	b.ReportAllocs()
	b.ResetTimer()
	if err := g.WriteNDJSON(context.Background(), w); err != nil {
		b.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkNew measures building the population and tables of the
// default 100k users.
func BenchmarkNew(b *testing.B) {
	cfg := DefaultConfig()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := New(cfg); err != nil {
			b.Fatal(err)
		}
	}
}
