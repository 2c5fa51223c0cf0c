package pipelinetest

import (
	"context"
	"errors"
	"fmt"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"

	"github.com/cohortline/cohortline/schemas"
)

// MemorySink keeps what a reader of the real sink would see: per (window,
// partition), the rows of the highest flush version. It is pipeline.Sink
// (without importing pipeline) and not safe for concurrent use.
type MemorySink struct {
	Flushes map[[2]int64]schemas.Flush // by (window start, partition)
	Rows    map[[2]int64]map[uint64]string
	Writes  int
	FailAt  int // WritePartials call that fails (1-based) with ErrInjected, 0: never
}

// NewMemorySink returns an empty sink.
func NewMemorySink() *MemorySink {
	return &MemorySink{Flushes: map[[2]int64]schemas.Flush{}, Rows: map[[2]int64]map[uint64]string{}}
}

// ErrInjected is the failure of MemorySink.FailAt.
var ErrInjected = errors.New("injected failure")

// WritePartials keeps the rows of f unless a newer version of its window
// and partition is stored.
func (s *MemorySink) WritePartials(_ context.Context, rec arrow.Record, f schemas.Flush) error {
	s.Writes++
	if s.Writes == s.FailAt {
		return ErrInjected
	}
	key := [2]int64{f.WindowStart, int64(f.Partition)}
	if old, ok := s.Flushes[key]; ok && old.Version > f.Version {
		return nil // an older re-flush: readers keep the newer rows
	}
	s.Flushes[key] = f
	s.Rows[key] = PartialRows(rec)
	return nil
}

// LastFlush is the newest flush of the partition, as the real sink's.
func (s *MemorySink) LastFlush(_ context.Context, topic string, partition int) (schemas.Flush, bool, error) {
	var last schemas.Flush
	found := false
	for _, f := range s.Flushes {
		newer := f.Version > last.Version || f.Version == last.Version && f.WindowStart > last.WindowStart
		if f.Topic == topic && f.Partition == partition && (!found || newer) {
			last, found = f, true
		}
	}
	return last, found, nil
}

// PartialRows renders each row of a partials record as text, by cohort id.
func PartialRows(rec arrow.Record) map[uint64]string {
	ids := rec.Column(schemas.PartialCohortID).(*array.Uint64)
	keys := rec.Column(schemas.PartialCohortKey).(*array.String)
	users := rec.Column(schemas.PartialUsers).(*array.Uint64)
	events := rec.Column(schemas.PartialEvents).(*array.Uint64)
	values := rec.Column(schemas.PartialValues).(*array.List)
	flat := values.ListValues().(*array.Uint64)
	out := make(map[uint64]string, rec.NumRows())
	for i := range int(rec.NumRows()) {
		start, end := values.ValueOffsets(i)
		out[ids.Value(i)] = fmt.Sprintf("%s users=%d events=%d values=%v", keys.Value(i), users.Value(i), events.Value(i), flat.Uint64Values()[start:end])
	}
	return out
}
