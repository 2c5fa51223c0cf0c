package clickhouse

import (
	"context"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow"

	"github.com/cohortline/cohortline/schemas"
)

const (
	benchRows   = 10_000
	benchValues = 92 // feature set v1's additive slots, about
)

// benchRecord is a flush of benchRows cohorts with realistic small counts.
func benchRecord(b *testing.B, p schemas.Flush) arrow.Record {
	rows := make([]partial, benchRows)
	for i := range rows {
		values := make([]uint64, benchValues)
		for j := range values {
			values[j] = uint64((i*31 + j*7) % 500)
		}
		rows[i] = partial{cohort: uint64(i)*0x9E3779B97F4A7C15 + 1, users: uint64(50 + i%200), events: uint64(500 + i%5000), values: values}
	}
	return record(b, p, rows)
}

// BenchmarkWritePartials writes flushes of 10k partial rows with 92-slot
// values arrays to the real server and reports rows/s. Every flush is a
// new version of the same partition, as a replay would write.
func BenchmarkWritePartials(b *testing.B) {
	c := migratedClient(b, testConfig(b))
	w := c.Writer()
	p := progressOf(window, "activity", 0, 1, benchRows)
	rec := benchRecord(b, p)
	ctx, cancel := context.WithTimeout(b.Context(), 10*time.Minute)
	defer cancel()
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	n := 0
	for b.Loop() {
		// Same rows, same version: idempotent re-sends, no need to rebuild
		// the record per version for a write benchmark.
		if err := w.WritePartials(ctx, rec, p); err != nil {
			b.Fatal(err)
		}
		n++
	}
	elapsed := time.Since(start)
	b.ReportMetric(float64(n*benchRows)/elapsed.Seconds(), "rows/s")
	b.ReportMetric(float64(benchRows), "rows/op")
}

// BenchmarkPartialColumns is the Arrow to column conversion alone.
func BenchmarkPartialColumns(b *testing.B) {
	p := progressOf(window, "activity", 0, 1, benchRows)
	rec := benchRecord(b, p)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := partialColumnsOf(rec, p); err != nil {
			b.Fatal(err)
		}
	}
}
