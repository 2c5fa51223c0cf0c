package backfill

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/segmentio/kafka-go"
	"golang.org/x/sync/errgroup"

	"github.com/cohortline/cohortline/cohorts"
	"github.com/cohortline/cohortline/pipeline"
	"github.com/cohortline/cohortline/schemas"
)

// Config configures a backfill: the streaming pipeline's partition
// workers run over a bounded source, so a backfill gives exactly the
// partials streaming gave (or would have given) for the same messages.
type Config struct {
	Spec  *cohorts.Spec
	Rekey *cohorts.Rekeyer
	// Topic names the partials: the backfill replaces streaming's rows of
	// this topic's partitions.
	Topic string
	// From and To bound the windows recomputed: those starting in
	// [From, To). Both must be window starts.
	From, To time.Time
	// MaxOutOfOrder, WatermarkUsers and MaxFutureSkew must be streaming's
	// (the kafka keys of the same config): the same watermark closes the
	// same windows.
	MaxOutOfOrder, MaxFutureSkew time.Duration
	WatermarkUsers               int
	// Parallel is how many Kafka partitions are read at once; default
	// 4 × GOMAXPROCS: a partition's reader waits on fetches and on its
	// flushes' inserts, so one per CPU leaves the CPUs half idle (5M events
	// on 2 CPUs: 293k events/s with 2, 425k with 8).
	Parallel int
	// Now is the clock for the future-skew check; default time.Now.
	Now func() time.Time
}

// Version is the flush version of a backfill started at t: above
// every streaming version, and a later backfill's above an earlier's.
func Version(t time.Time) uint64 {
	return schemas.FirstBackfillVersion | uint64(t.UnixMilli())
}

// Sink receives a backfill's closed windows; clickhouse.Writer is
// one. WriteBackfillPartials must be durable when it returns nil,
// invisible to readers until the backfill is committed, and idempotent for
// the same flush; it returns the flush as stored.
type Sink interface {
	WriteBackfillPartials(ctx context.Context, rec arrow.Record, f schemas.Flush) (schemas.Flush, error)
}

// Job recomputes a past range: one pipeline.Worker per partition over a
// bounded source. Create it with New, then run RunKafka or RunFiles once;
// then Commit makes the flushes visible (Checkpoint.RangeFlushes) and
// republishes.
type Job struct {
	cfg     Config
	sink    Sink
	cp      *Checkpoint
	log     *slog.Logger
	rejects *rejectLog
	parts   []*partitionJob
	files   []*fileProgress // files backfill only
	// filesShown is files for Progress, which a progress line calls from
	// its own goroutine while RunFiles sets files up.
	filesShown atomic.Pointer[[]*fileProgress]
	maxTS      int64 // the decoder's bound on event times: now plus the future skew
}

// New prepares a backfill over the checkpoint's partitions, new or
// loaded for a resume.
func New(cfg Config, sink Sink, cp *Checkpoint, log *slog.Logger) (*Job, error) {
	s := cp.State()
	if !s.From.Before(s.To) || !cfg.From.Equal(s.From) || !cfg.To.Equal(s.To) {
		return nil, fmt.Errorf("BUG: backfill range [%s, %s) against checkpoint [%s, %s)", cfg.From, cfg.To, s.From, s.To)
	}
	if cfg.Parallel <= 0 {
		cfg.Parallel = 4 * runtime.GOMAXPROCS(0)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	b := &Job{cfg: cfg, sink: sink, cp: cp, log: log, rejects: &rejectLog{}}
	from, to := cfg.From.UnixMilli(), cfg.To.UnixMilli()
	b.maxTS = cfg.Now().Add(cfg.MaxFutureSkew).UnixMilli()
	wcfg := pipeline.WorkerConfig{
		Spec: cfg.Spec, Rekey: cfg.Rekey, MaxOutOfOrder: cfg.MaxOutOfOrder, WatermarkUsers: cfg.WatermarkUsers,
		MaxTS: b.maxTS, Log: log,
		Flush: pipeline.FlushPolicy{
			Version: s.Version,
			Keep:    func(w cohorts.Window) bool { return w.Start >= from && w.Start < to },
		},
	}
	last := cfg.Spec.WindowOf(to - 1)
	for _, pc := range s.Partitions {
		p := &partitionJob{id: pc.Partition, cp: cp, sink: sink, last: last, start: pc.Start, end: pc.End, expect: pc.Expect}
		p.done.Store(pc.Done)
		p.offset.Store(pc.Offset)
		if len(pc.Flushes) > 0 {
			p.resumeAt = pc.Flushes[len(pc.Flushes)-1].Watermark
			p.resumed = true
		}
		commit := func(_ context.Context, offset int64) error { return p.commit(offset, false) }
		p.w = pipeline.NewWorker(wcfg, cfg.Topic, pc.Partition, p, b.rejects.forPartition(pc.Partition), commit, &p.counters)
		b.parts = append(b.parts, p)
	}
	return b, nil
}

// partitionJob is one partition of a backfill: a partition worker
// whose sink is the backfill's and whose commits go to the checkpoint.
type partitionJob struct {
	id         int
	w          *pipeline.Worker
	cp         *Checkpoint
	sink       Sink
	last       cohorts.Window // the range's last window
	start, end int64          // offsets to read, from the checkpoint
	expect     int64          // where the range should be read through, for progress
	resumed    bool           // the checkpoint has flushes: resume at resumeAt
	resumeAt   int64
	pending    []schemas.Flush // written since the last commit
	counters   pipeline.Counters

	// For progress, read by other goroutines.
	offset    atomic.Int64 // next offset to read
	rangeRead atomic.Bool  // handle has returned errRangeRead
	bytes     atomic.Int64 // message bytes read
	done      atomic.Bool
	finished  atomic.Int64 // wall clock ms when done; 0 before
}

// WritePartials and LastFlush make partitionJob the worker's Sink.
func (p *partitionJob) WritePartials(ctx context.Context, rec arrow.Record, f schemas.Flush) error {
	stored, err := p.sink.WriteBackfillPartials(ctx, rec, f)
	if err != nil {
		return err
	}
	p.pending = append(p.pending, stored)
	return nil
}

func (p *partitionJob) LastFlush(context.Context, string, int) (schemas.Flush, bool, error) {
	return schemas.Flush{Watermark: p.resumeAt}, p.resumed, nil
}

func (p *partitionJob) commit(offset int64, done bool) error {
	err := p.cp.commit(p.id, offset, p.pending, done)
	if err == nil {
		p.pending = p.pending[:0]
	}
	return err
}

// errRangeRead stops a partition's reading: the messages it still has
// cannot change the range any more.
var errRangeRead = errors.New("backfill range read")

// handle gives one message to the worker, or errRangeRead once the
// partition is past its end or the watermark has closed the range's last
// window (so every window of the range is flushed).
func (p *partitionJob) handle(ctx context.Context, m kafka.Message) error {
	if (p.end >= 0 && m.Offset >= p.end) || p.w.Closed(p.last) {
		p.rangeRead.Store(true)
		return errRangeRead
	}
	p.bytes.Add(int64(len(m.Value)))
	err := p.w.Handle(ctx, m)
	p.offset.Store(m.Offset + 1)
	return err
}

// finish flushes the windows still open (the source has nothing more for
// them: a bounded source ends where streaming would wait) and marks the
// partition done in the checkpoint.
func (p *partitionJob) finish(ctx context.Context) error {
	if err := p.w.Drain(ctx); err != nil {
		return err
	}
	if err := p.commit(max(p.w.NextOffset(), p.offset.Load()), true); err != nil {
		return err
	}
	p.done.Store(true)
	p.finished.Store(time.Now().UnixMilli())
	return nil
}

// resume restores the worker's watermark from the checkpoint.
func (p *partitionJob) resume(ctx context.Context) error { return p.w.Resume(ctx) }

// Totals sums what a backfill did over its partitions.
type Totals struct {
	// Rejected counts the rejects of RejectedBy, which include records a
	// files backfill could not route to a partition.
	pipeline.CountTotals
	// RejectedBy counts rejected messages by reason; Rejects lists the
	// first of them by position ("partition 3 offset 1234: malformed_json",
	// or "events.ndjson: row 12: …"), never by content.
	RejectedBy map[string]uint64
	Rejects    []string
	// BrokenFiles lists the files that could not be read to the end.
	BrokenFiles []string
}

// Totals returns the backfill's counts so far.
func (b *Job) Totals() Totals {
	t := Totals{}
	for _, p := range b.parts {
		p.counters.AddTo(&t.CountTotals)
	}
	t.RejectedBy, t.Rejects, t.BrokenFiles = b.rejects.snapshot()
	t.Rejected = 0
	for _, n := range t.RejectedBy {
		t.Rejected += n
	}
	t.Messages += b.rejects.unrouted.Load()
	return t
}

// SourceProgress is how far one partition (Kafka) or file has been read.
type SourceProgress struct {
	Name string // "partition 3", or the file's path
	// Done and Total measure the work in offsets (Kafka) or bytes (files);
	// Total is 0 when unknown.
	Done, Total int64
	Messages    int64
	Bytes       int64 // message bytes (Kafka) or file bytes read
	Finished    bool
}

// Fraction is how much of the source is read, from 0 to 1.
func (s SourceProgress) Fraction() float64 {
	switch {
	case s.Finished:
		return 1
	case s.Total <= 0:
		return 0
	}
	return min(float64(s.Done)/float64(s.Total), 1)
}

// Overall sums the progress of sources into one, Finished when all are,
// and says how many are finished.
func Overall(sources []SourceProgress) (all SourceProgress, finished int) {
	for _, s := range sources {
		all.Messages += s.Messages
		all.Bytes += s.Bytes
		all.Done += min(s.Done, s.Total)
		all.Total += s.Total
		if s.Finished {
			finished++
		}
	}
	all.Finished = finished == len(sources)
	return all, finished
}

// Progress returns the progress of each partition or file.
func (b *Job) Progress() []SourceProgress {
	if files := b.filesShown.Load(); files != nil {
		out := make([]SourceProgress, len(*files))
		for i, f := range *files {
			out[i] = f.progress()
		}
		return out
	}
	out := make([]SourceProgress, len(b.parts))
	for i, p := range b.parts {
		out[i] = SourceProgress{
			Name: fmt.Sprintf("partition %d", p.id), Messages: int64(p.counters.Messages.Load()),
			Bytes: p.bytes.Load(), Done: p.offset.Load() - p.start, Total: max(p.expect-p.start, 0),
			Finished: p.done.Load(),
		}
		if out[i].Finished {
			out[i].Done = out[i].Total
		}
	}
	return out
}

// rejectLog collects a backfill's rejected messages. Streaming has already
// dead-lettered them, so a backfill only counts them and keeps the first
// positions to show; never their content.
type rejectLog struct {
	mu       sync.Mutex
	byReason map[string]uint64
	first    []string
	broken   []string
	unrouted atomic.Uint64 // rejected before reaching a partition (files)
}

const maxRejectExamples = 10

func (r *rejectLog) add(reason schemas.Reason, where string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.byReason == nil {
		r.byReason = map[string]uint64{}
	}
	r.byReason[string(reason)]++
	if len(r.first) < maxRejectExamples {
		r.first = append(r.first, where+": "+string(reason))
	}
}

func (r *rejectLog) addBroken(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.broken = append(r.broken, err.Error())
}

func (r *rejectLog) snapshot() (map[string]uint64, []string, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	by := make(map[string]uint64, len(r.byReason))
	for k, v := range r.byReason {
		by[k] = v
	}
	return by, append([]string(nil), r.first...), append([]string(nil), r.broken...)
}

// forPartition is the pipeline.DeadLetters of one partition's worker.
func (r *rejectLog) forPartition(partition int) pipeline.DeadLetters {
	return rejectsOf{r, partition}
}

type rejectsOf struct {
	log       *rejectLog
	partition int
}

func (d rejectsOf) Add(_ context.Context, dl pipeline.DeadLetter) error {
	d.log.add(dl.Reason, fmt.Sprintf("partition %d offset %d", d.partition, dl.Offset))
	return nil
}

func (rejectsOf) Flush(context.Context) error { return nil }

// runPartitions runs fn for each partition not done yet, at most parallel
// at once, and returns the first error (cancelling the others).
func (b *Job) runPartitions(ctx context.Context, parallel int, fn func(context.Context, *partitionJob) error) error {
	todo := make([]*partitionJob, 0, len(b.parts))
	for _, p := range b.parts {
		if !p.done.Load() {
			todo = append(todo, p)
		}
	}
	// Biggest first: the last partition to start is then a short one.
	sort.SliceStable(todo, func(i, j int) bool { return todo[i].end-todo[i].offset.Load() > todo[j].end-todo[j].offset.Load() })
	g, gctx := errgroup.WithContext(ctx) // gctx ends when Wait returns
	g.SetLimit(parallel)
	for _, p := range todo {
		if gctx.Err() != nil {
			break // a partition failed, or the backfill was interrupted
		}
		g.Go(func() error { return fn(gctx, p) })
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return ctx.Err()
}
