package clickhouse

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"github.com/cohortline/cohortline/schemas"
)

// unreachableWriter writes to a closed loopback port, with the given retry
// budget: every attempt is refused at once.
func unreachableWriter(t *testing.T, retry RetryConfig) *Writer {
	t.Helper()
	c, err := open(Config{Addr: []string{closedPort(t)}, DialTimeout: time.Second, Retry: retry})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c.Writer()
}

func TestWritePartialsUnreachableNamesTheFlush(t *testing.T) {
	w := unreachableWriter(t, RetryConfig{MaxAttempts: 3, InitialBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond})
	p := progressOf(time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC), "activity", 3, 7, 2)
	rec := record(t, p, []partial{{cohort: 1, users: 1, values: []uint64{1}}, {cohort: 2, users: 1, values: []uint64{1}}})
	err := w.WritePartials(t.Context(), rec, p)
	if err == nil {
		t.Fatal("write to a closed port succeeded")
	}
	for _, want := range []string{
		`writing partials of window 2026-11-01T10:00:00Z topic "activity" partition 3 version 7 (2 rows)`,
		"gave up after 3 attempts", "connection refused",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if !IsRetryable(err) {
		t.Errorf("IsRetryable(%v) = false: the pipeline must keep its offsets and try again", err)
	}
}

func TestWritePartialsUnreachableStopsOnCancel(t *testing.T) {
	w := unreachableWriter(t, RetryConfig{MaxAttempts: 1 << 30, InitialBackoff: 20 * time.Millisecond, MaxBackoff: 50 * time.Millisecond})
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(200*time.Millisecond, cancel)
	p := progressOf(window, "activity", 3, 7, 0)
	err := w.WritePartials(ctx, record(t, p, nil), p)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "partition 3") {
		t.Fatalf("error %v: want context.Canceled naming the flush", err)
	}
	if IsRetryable(err) {
		t.Errorf("IsRetryable(%v) = true after the caller cancelled", err)
	}
}

func TestWritePartialsRejectsRecordsOfAnotherFlush(t *testing.T) {
	w := unreachableWriter(t, RetryConfig{MaxAttempts: 1})
	p := progressOf(window, "activity", 3, 7, 1)
	good := func() arrow.Record { return record(t, p, []partial{{cohort: 1, values: []uint64{1}}}) }
	other := func(mut func(*schemas.Flush)) arrow.Record {
		q := p
		mut(&q)
		return record(t, q, []partial{{cohort: 1, values: []uint64{1}}})
	}
	for _, tc := range []struct {
		name string
		rec  arrow.Record
		p    schemas.Flush
		want string
	}{
		{"row count", good(), func() schemas.Flush { q := p; q.Rows = 2; return q }(), "record has 1 rows, progress says 2"},
		{"window", other(func(q *schemas.Flush) { q.WindowStart += time.Hour.Milliseconds() }), p, "row 0 has window_start 2026-11-01T11:00:00Z"},
		{"window end", good(), func() schemas.Flush { q := p; q.WindowEnd += time.Hour.Milliseconds(); return q }(), "row 0 has window_end 2026-11-01T11:00:00Z, progress says 2026-11-01T12:00:00Z"},
		{"topic", other(func(q *schemas.Flush) { q.Topic = "x" }), p, `row 0 has topic "x"`},
		{"partition", other(func(q *schemas.Flush) { q.Partition = 4 }), p, "row 0 has partition 4"},
		{"version", other(func(q *schemas.Flush) { q.Version = 6 }), p, "row 0 has flush_version 6"},
		{"sub-second window", good(), func() schemas.Flush { q := p; q.WindowStart++; return q }(), "not a whole second"},
		{"schema", otherSchema(t), p, "not schemas.PartialsSchema"},
	} {
		err := w.WritePartials(t.Context(), tc.rec, tc.p)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "writing partials of window") {
			t.Errorf("%s: error %v, want one naming the flush and %q", tc.name, err, tc.want)
		}
		if IsRetryable(err) {
			t.Errorf("%s: a bad record is not retryable", tc.name)
		}
	}
}

func otherSchema(t *testing.T) arrow.Record {
	schema := arrow.NewSchema([]arrow.Field{{Name: "users", Type: arrow.PrimitiveTypes.Uint64}}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	b.Field(0).(*array.Uint64Builder).Append(1)
	rec := b.NewRecord()
	t.Cleanup(rec.Release)
	return rec
}

// TestPartialColumnsOfSlicedRecord: a record sliced from a larger one (the
// pipeline may split big flushes) converts to its own rows only.
func TestPartialColumnsOfSlicedRecord(t *testing.T) {
	p := progressOf(window, "activity", 3, 7, 3)
	rec := record(t, p, []partial{
		{cohort: 1, users: 1, values: []uint64{1, 1}},
		{cohort: 2, users: 2, values: []uint64{2, 2, 2}},
		{cohort: 3, users: 3, values: []uint64{3}},
	})
	sliced := rec.NewSlice(1, 3)
	defer sliced.Release()
	p.Rows = 2
	cols, err := partialColumnsOf(sliced, p)
	if err != nil {
		t.Fatal(err)
	}
	if cols.rows != 2 || cols.cohortID[0] != 2 || cols.users[1] != 3 ||
		len(cols.values[0]) != 3 || cols.values[0][2] != 2 || len(cols.values[1]) != 1 || cols.values[1][0] != 3 {
		t.Errorf("sliced columns: ids %v users %v values %v", cols.cohortID, cols.users, cols.values)
	}
}
