package backfill

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/segmentio/kafka-go"

	"github.com/cohortline/cohortline/cohorts"
	"github.com/cohortline/cohortline/schemas"
	"github.com/cohortline/cohortline/schemas/synth"

	"github.com/cohortline/cohortline/pipeline"
	"github.com/cohortline/cohortline/pipeline/pipelinetest"
)

// backfillData is a generated topic of backfillPartitions partitions,
// routed as a Kafka producer would (murmur2 of the key), and the same
// records as one sequence of NDJSON lines, in production order.
type backfillData struct {
	spec       cohorts.Spec
	partitions [][]kafka.Message
	lines      [][]byte
	start      time.Time // the first event's hour
}

const backfillPartitions = 3

// defaultWatermarkUsers is kafka.watermark_users' default, which the
// parity tests run under.
const defaultWatermarkUsers = pipeline.DefaultWatermarkUsers

// ignoredDeadLetters drops dead letters: a backfill counts its rejects
// itself, and streaming's are not what the parity tests compare.
type ignoredDeadLetters struct{}

func (ignoredDeadLetters) Add(context.Context, pipeline.DeadLetter) error { return nil }
func (ignoredDeadLetters) Flush(context.Context) error                    { return nil }

func newBackfillData(t *testing.T) backfillData {
	t.Helper()
	cfg := synth.DefaultConfig()
	cfg.Seed, cfg.Users, cfg.Events, cfg.Span = 11, 600, 30000, 6*time.Hour
	cfg.Bad, cfg.Late, cfg.Duplicates, cfg.OutOfOrder = 0.02, 0.02, 0.02, 0.2
	g, err := synth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	spec := cohorts.DefaultSpec()
	spec.Window, spec.Privacy.Rho = time.Hour, cohorts.DefaultRho(time.Hour) // hourly windows, several per range
	d := backfillData{spec: spec, partitions: make([][]kafka.Message, backfillPartitions), start: cfg.Start.Truncate(time.Hour)}
	parts := []int{0, 1, 2}
	for rec, ok := g.Next(); ok; rec, ok = g.Next() {
		m := kafka.Message{Key: slices.Clone(rec.Key), Value: slices.Clone(rec.Line)}
		p := kafka.Murmur2Balancer{}.Balance(m, parts...)
		m.Partition, m.Offset = p, int64(len(d.partitions[p]))
		d.partitions[p] = append(d.partitions[p], m)
		d.lines = append(d.lines, m.Value)
	}
	return d
}

// streamed is what streaming leaves readers: per (window start,
// partition), the rows of the last flush.
func (d backfillData) streamed(t *testing.T) map[[2]int64]map[uint64]string {
	t.Helper()
	out := map[[2]int64]map[uint64]string{}
	for p, msgs := range d.partitions {
		sink := pipelinetest.NewMemorySink()
		commit := func(context.Context, int64) error { return nil }
		w := pipeline.NewWorker(pipeline.WorkerConfig{Spec: &d.spec, Rekey: testRekeyer(t), MaxOutOfOrder: 10 * time.Second, WatermarkUsers: defaultWatermarkUsers},
			"activity", p, sink, ignoredDeadLetters{}, commit, &pipeline.Counters{})
		for _, m := range msgs {
			if err := w.Handle(t.Context(), m); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Idle(t.Context(), time.Now()); err != nil {
			t.Fatal(err)
		}
		maps.Copy(out, sink.Rows)
	}
	return out
}

func testRekeyer(t *testing.T) *cohorts.Rekeyer {
	t.Helper()
	r, err := cohorts.NewRekeyer([]byte("backfill test secret, 32 bytes or more"))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// inRange keeps the rows of the windows starting in [from, to).
func inRange(rows map[[2]int64]map[uint64]string, from, to time.Time) map[[2]int64]map[uint64]string {
	out := map[[2]int64]map[uint64]string{}
	for k, v := range rows {
		if k[0] >= from.UnixMilli() && k[0] < to.UnixMilli() {
			out[k] = v
		}
	}
	return out
}

// memoryFiles serves NDJSON lines as archive files: the lines split into
// files of the given sizes.
type memoryFiles struct{ files map[string][][]byte }

func splitFiles(lines [][]byte, sizes ...int) (memoryFiles, []FileStamp) {
	m := memoryFiles{files: map[string][][]byte{}}
	var stamps []FileStamp
	for i, n := range sizes {
		if i == len(sizes)-1 {
			n = len(lines)
		}
		name := fmt.Sprintf("part-%d.ndjson", i)
		m.files[name], lines = lines[:n], lines[n:]
		stamps = append(stamps, FileStamp{Path: name, Records: -1})
	}
	return m, stamps
}

func (m memoryFiles) open(path string) (RecordReader, error) {
	lines, ok := m.files[path]
	if !ok {
		return nil, fmt.Errorf("%s: no such file", path)
	}
	return &lineReader{lines: lines}, nil
}

type lineReader struct {
	lines [][]byte
	next  int
	bytes int64
}

func (r *lineReader) Next() ([]byte, int64, error) {
	if r.next == len(r.lines) {
		return nil, 0, io.EOF
	}
	r.next++
	r.bytes += int64(len(r.lines[r.next-1]) + 1)
	return r.lines[r.next-1], int64(r.next), nil
}

func (r *lineReader) Skip(n int64) error {
	if int64(len(r.lines)-r.next) < n {
		return io.ErrUnexpectedEOF
	}
	r.next += int(n)
	return nil
}

func (r *lineReader) BytesRead() int64 { return r.bytes }
func (r *lineReader) Close() error     { return nil }

// backfillSink is a pipelinetest.MemorySink safe for a backfill's goroutines that can
// cancel the backfill after a number of writes (an interruption).
type backfillSink struct {
	mu       sync.Mutex
	sink     *pipelinetest.MemorySink
	cancelAt int
	cancel   context.CancelFunc
}

func (s *backfillSink) WriteBackfillPartials(ctx context.Context, rec arrow.Record, f schemas.Flush) (schemas.Flush, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.sink.WritePartials(ctx, rec, f); err != nil {
		return f, err
	}
	if s.sink.Writes == s.cancelAt {
		s.cancel()
	}
	return f, nil
}

func (d backfillData) checkpoint(t *testing.T, path string, from, to time.Time, files []FileStamp) *Checkpoint {
	t.Helper()
	state := CheckpointState{Version: Version(time.Now()), Topic: "activity", From: from, To: to, Source: "files", Files: files}
	for p := range backfillPartitions {
		state.Partitions = append(state.Partitions, PartitionCheckpoint{Partition: p, End: -1})
	}
	cp, err := NewCheckpoint(path, state)
	if err != nil {
		t.Fatal(err)
	}
	return cp
}

func (d backfillData) backfill(t *testing.T, cp *Checkpoint, sink Sink) *Job {
	t.Helper()
	s := cp.State()
	b, err := New(Config{
		Spec: &d.spec, Rekey: testRekeyer(t), Topic: "activity", From: s.From, To: s.To,
		MaxOutOfOrder: 10 * time.Second, MaxFutureSkew: time.Hour, WatermarkUsers: defaultWatermarkUsers,
	}, sink, cp, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A files backfill of a range in the middle of the data gives, per window
// and partition, exactly the rows streaming flushed: the records of the
// lead-in before the range and the windows after it only move the
// watermark, as they did in streaming, and every record reaches the
// partition its key's murmur2 names.
func TestBackfillFilesEqualsStreaming(t *testing.T) {
	d := newBackfillData(t)
	from, to := d.start.Add(2*time.Hour), d.start.Add(5*time.Hour)
	want := inRange(d.streamed(t), from, to)
	if len(want) != 3*backfillPartitions {
		t.Fatalf("streaming flushed %d (window, partition)s in the range, want %d: the data set does not cover it", len(want), 3*backfillPartitions)
	}

	files, stamps := splitFiles(d.lines, len(d.lines)/3, 0)
	cp := d.checkpoint(t, "", from, to, stamps)
	sink := &backfillSink{sink: pipelinetest.NewMemorySink()}
	b := d.backfill(t, cp, sink)
	// A progress line polls Progress from its own goroutine from before
	// RunFiles starts (cohortline backfill's does): -race checks that.
	stopPolling := make(chan struct{})
	polled := make(chan struct{})
	go func() {
		defer close(polled)
		for {
			b.Progress()
			select {
			case <-stopPolling:
				return
			default:
				runtime.Gosched()
			}
		}
	}()
	err := b.RunFiles(t.Context(), FileSource{Files: stamps, Open: files.open})
	close(stopPolling)
	<-polled
	if err != nil {
		t.Fatal(err)
	}
	if p := b.Progress(); len(p) != len(stamps) || p[0].Name != stamps[0].Path {
		t.Errorf("progress %+v, want one line per file of %d", p, len(stamps))
	}
	if diff := rowsDiff2(sink.sink.Rows, want); diff != "" {
		t.Fatalf("backfill partials differ from streaming's:\n%s", diff)
	}
	for k, f := range sink.sink.Flushes {
		if f.Version != cp.State().Version || f.Version < schemas.FirstBackfillVersion {
			t.Errorf("flush %v has version %d, want the backfill's %d", k, f.Version, cp.State().Version)
		}
	}
	tot := b.Totals()
	// The data runs an hour past the range: reading stops once the
	// watermark has closed the range in every partition.
	if tot.Messages == 0 || tot.Messages >= uint64(len(d.lines)) || tot.Rejected == 0 || tot.OutOfRange == 0 || tot.Counted == 0 {
		t.Errorf("totals %+v: want fewer than the %d records read, some rejected, some outside the range, some counted", tot, len(d.lines))
	}
	for _, r := range tot.Rejects {
		if !regexpPosition.MatchString(r) {
			t.Errorf("reject %q does not name a file and row", r)
		}
	}

	// The commit covers every window of the range in every partition.
	flushes := cp.RangeFlushes(&d.spec)
	if len(flushes) != 3*backfillPartitions {
		t.Fatalf("RangeFlushes: %d flushes, want %d", len(flushes), 3*backfillPartitions)
	}
	for _, f := range flushes {
		if got := sink.sink.Flushes[[2]int64{f.WindowStart, int64(f.Partition)}]; got.Rows != f.Rows || f.Version != cp.State().Version {
			t.Errorf("RangeFlushes has %+v, the sink got %+v", f, got)
		}
	}
}

// An interrupted files backfill resumed from its checkpoint file gives the
// rows of an uninterrupted one: nothing is counted twice or lost, at
// several interruption points.
func TestBackfillResumeEqualsUninterrupted(t *testing.T) {
	d := newBackfillData(t)
	from, to := d.start.Add(time.Hour), d.start.Add(5*time.Hour)
	files, stamps := splitFiles(d.lines, len(d.lines)/2, 0)
	whole := &backfillSink{sink: pipelinetest.NewMemorySink()}
	b := d.backfill(t, d.checkpoint(t, "", from, to, stamps), whole)
	if err := b.RunFiles(t.Context(), FileSource{Files: stamps, Open: files.open}); err != nil {
		t.Fatal(err)
	}
	for _, stopAt := range []int{1, 3, 7, 10} {
		t.Run(fmt.Sprintf("interrupted after write %d", stopAt), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "cp.json")
			ctx, cancel := context.WithCancel(t.Context())
			sink := &backfillSink{sink: pipelinetest.NewMemorySink(), cancelAt: stopAt, cancel: cancel}
			b := d.backfill(t, d.checkpoint(t, path, from, to, stamps), sink)
			err := b.RunFiles(ctx, FileSource{Files: stamps, Open: files.open})
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("interrupted run: %v, want context.Canceled", err)
			}
			cp, err := LoadCheckpoint(path)
			if err != nil {
				t.Fatal(err)
			}
			done := 0
			for _, p := range cp.State().Partitions {
				if p.Done {
					done++
				}
			}
			if done == backfillPartitions {
				t.Fatalf("every partition done before the interruption: it interrupted nothing")
			}
			sink.cancelAt = 0
			b = d.backfill(t, cp, sink)
			if err := b.RunFiles(t.Context(), FileSource{Files: cp.State().Files, Open: files.open}); err != nil {
				t.Fatal(err)
			}
			if diff := rowsDiff2(sink.sink.Rows, whole.sink.Rows); diff != "" {
				t.Fatalf("resumed backfill differs from an uninterrupted one:\n%s", diff)
			}
			if got, want := len(cp.RangeFlushes(&d.spec)), 4*backfillPartitions; got != want {
				t.Errorf("RangeFlushes after the resume: %d, want %d", got, want)
			}
		})
	}
}

// StopOnReject ends a files backfill at the first rejected record, naming
// the file and row; StopOnBrokenFile at a file that cannot be read, which
// is otherwise listed and skipped.
func TestBackfillFilesStopOnError(t *testing.T) {
	d := newBackfillData(t)
	files, stamps := splitFiles(d.lines, len(d.lines)/2, 0)
	cp := d.checkpoint(t, "", d.start, d.start.Add(time.Hour), stamps)
	b := d.backfill(t, cp, &backfillSink{sink: pipelinetest.NewMemorySink()})
	err := b.RunFiles(t.Context(), FileSource{Files: stamps, Open: files.open, StopOnReject: true})
	if err == nil || !regexpPosition.MatchString(err.Error()) {
		t.Fatalf("RunFiles with a rejected record and StopOnReject: %v, want an error naming file and row", err)
	}

	missing := append([]FileStamp{{Path: "gone.ndjson", Records: -1}}, stamps...)
	for _, stop := range []bool{false, true} {
		b := d.backfill(t, d.checkpoint(t, "", d.start, d.start.Add(time.Hour), missing), &backfillSink{sink: pipelinetest.NewMemorySink()})
		err := b.RunFiles(t.Context(), FileSource{Files: missing, Open: files.open, StopOnBrokenFile: stop})
		switch {
		case stop && (err == nil || !regexpMissing.MatchString(err.Error())):
			t.Errorf("a missing file with StopOnBrokenFile: %v", err)
		case !stop && err != nil:
			t.Errorf("a missing file without StopOnBrokenFile: %v", err)
		case !stop && (len(b.Totals().BrokenFiles) != 1 || !regexpMissing.MatchString(b.Totals().BrokenFiles[0])):
			t.Errorf("broken files %q, want the missing one", b.Totals().BrokenFiles)
		}
	}
}

// rowsDiff2 compares rows by (window, partition) and cohort.
func rowsDiff2(got, want map[[2]int64]map[uint64]string) string {
	var diffs []string
	keys := slices.Collect(maps.Keys(want))
	slices.SortFunc(keys, func(a, b [2]int64) int { return cmp.Or(cmp.Compare(a[0], b[0]), cmp.Compare(a[1], b[1])) })
	for _, k := range keys {
		if !maps.Equal(got[k], want[k]) {
			diffs = append(diffs, fmt.Sprintf("window %s partition %d: got %d rows, want %d", time.UnixMilli(k[0]).UTC().Format(time.RFC3339), k[1], len(got[k]), len(want[k])))
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("window %s partition %d: %d rows not wanted", time.UnixMilli(k[0]).UTC().Format(time.RFC3339), k[1], len(got[k])))
		}
	}
	return strings.Join(diffs, "\n")
}

var (
	regexpPosition = regexp.MustCompile(`part-\d\.ndjson: row \d+`)
	regexpMissing  = regexp.MustCompile(`gone\.ndjson`)
)
