package pipeline

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"time"

	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/segmentio/kafka-go"

	"github.com/cohortline/cohortline/cohorts"
	"github.com/cohortline/cohortline/schemas"
)

// Committer commits a partition's offset in the consumer group: the offset
// of the next message a new owner of the partition should read.
type Committer func(ctx context.Context, offset int64) error

// Worker turns the messages of one Kafka partition into flushed windows:
// the streaming core, which a backfill (pipeline/backfill) drives over a
// bounded source too. It runs on one goroutine; nothing in it is shared.
// Call Resume once, then Handle for each message in offset order, Poll
// between fetches, Idle when the partition is quiet, Drain at the end of a
// bounded source, and Release when the worker stops.
//
// With WorkerConfig.MaxInFlightFlushes above 1, a closed window is written
// by the worker's flusher goroutine (flusher.go) while the worker reads
// on, and the commit waits for the sink's acknowledgement; the worker's
// own state still lives on its one goroutine.
//
// The exactly-once effect rests on three rules (DESIGN.md, "Delivery
// guarantee"):
//  1. a window is written to the sink only when the watermark closes it,
//     and its flush version is the offset after the message that closed it,
//     so a replay writes the same rows with the same version;
//  2. the committed offset is the low watermark: the first offset of the
//     oldest window not yet stored, open or in flight to the sink (or the
//     next offset when there is none), so every message an unflushed window
//     needs is read again after a crash;
//  3. a worker taking over a partition first restores the watermark of the
//     partition's last flush (resume), so the replayed messages meet the
//     same watermark they met the first time: a message of a window that was
//     already flushed is skipped as it was then counted (or dropped as late),
//     and every window still open is rebuilt from all of its messages.
type Worker struct {
	topic     string
	partition int
	spec      *cohorts.Spec
	rekey     *cohorts.Rekeyer
	sink      Sink
	dead      DeadLetters
	commit    Committer
	counters  *Counters
	gauges    *partitionGauges // what the metrics collector reads; see reportGauges
	log       *slog.Logger
	mem       memory.Allocator
	policy    FlushPolicy

	decoder    schemas.Decoder
	event      schemas.Event
	wm         watermark
	open       []*openWindow // by window start
	nextOffset int64         // offset after the last message handled; -1 before the first
	committed  int64         // last offset committed; -1 before the first

	// The pipelined flush (flusher.go): at most maxInFlight windows handed
	// to the flusher and not yet acknowledged, oldest first. maxInFlight
	// <= 1 flushes in Handle itself, as a backfill does.
	maxInFlight int
	flusher     *flusher // started by the first hand-off
	inFlight    []inFlightFlush
	flushErr    error // the first flush that failed: the worker is done

	// lastCohorts is how many finest cohorts the last flushed window had: a
	// new window reserves room for as many, which spares the cohort table
	// its growth copies (4% of the CPU over the 5M-event benchmark). Only
	// the cohorts: reserving the per-user tables would hold a full
	// window's memory from the first event of every overlapping window.
	lastCohorts int
}

// openWindow is one window of this partition that has not been flushed yet.
type openWindow struct {
	window                  cohorts.Window
	state                   *cohorts.WindowState
	firstOffset, lastOffset int64
	top                     topUsers // what the window corroborates of the watermark
}

// FlushPolicy is how a Worker versions and selects its flushes. The zero
// value is streaming's; a backfill sets both fields.
type FlushPolicy struct {
	// Version, when not 0, is the version of every flush (see
	// backfill.Version); 0 is streaming's: the offset after the message
	// that closed the window (rule 1).
	Version uint64
	// Keep, when not nil, selects the windows that are flushed and whose
	// events are counted. The others are aggregated all the same, for the
	// watermark they corroborate, their events counted as OutOfRange, and
	// dropped when they close.
	Keep func(cohorts.Window) bool
}

// WorkerConfig is what a Worker needs besides its partition.
type WorkerConfig struct {
	Spec          *cohorts.Spec
	Rekey         *cohorts.Rekeyer
	MaxOutOfOrder time.Duration
	// WatermarkUsers is how many distinct users' events must reach an
	// event time before the watermark follows (see watermark); 0 means 1.
	WatermarkUsers int
	// MinTS and MaxTS bound accepted event times (0: the contract's
	// defaults); see schemas.Decoder.
	MinTS, MaxTS int64
	Flush        FlushPolicy
	// MaxInFlightFlushes is how many closed windows of the partition may
	// be on their way to the sink at once while the worker reads on; the
	// worker waits when that many are unacknowledged, so 0 and 1 flush
	// synchronously (a backfill's). See Config.MaxInFlightFlushes.
	MaxInFlightFlushes int
	// Log receives a line per flush; nil discards them.
	Log *slog.Logger
}

func NewWorker(cfg WorkerConfig, topic string, partition int, sink Sink, dead DeadLetters, commit Committer, counters *Counters) *Worker {
	w := &Worker{
		topic: topic, partition: partition,
		spec: cfg.Spec, rekey: cfg.Rekey,
		sink: sink, dead: dead, commit: commit, counters: counters,
		gauges:     newPartitionGauges(),
		log:        cmp.Or(cfg.Log, slog.New(slog.DiscardHandler)),
		mem:        memory.NewGoAllocator(),
		policy:     cfg.Flush,
		wm:         newWatermark(cfg.MaxOutOfOrder, max(cfg.WatermarkUsers, 1)),
		nextOffset: -1, committed: -1,
		maxInFlight: cfg.MaxInFlightFlushes,
	}
	w.decoder.MinTS, w.decoder.MaxTS = cfg.MinTS, cfg.MaxTS
	return w
}

// Resume restores the watermark of the partition's last flush; call it once,
// before the first message. See rule 3 on Worker.
func (w *Worker) Resume(ctx context.Context) error {
	last, ok, err := w.sink.LastFlush(ctx, w.topic, w.partition)
	if err != nil {
		return fmt.Errorf("reading the last flush of %s/%d: %w", w.topic, w.partition, err)
	}
	if ok {
		w.wm.advanceTo(last.Watermark)
	}
	w.reportGauges()
	return nil
}

// Handle processes one message, then flushes the windows it closed and
// commits. With pipelined flushes it first takes the flusher's answers
// (Poll), hands the windows it closed to the flusher, and blocks while
// MaxInFlightFlushes of them are unacknowledged. An error means the sink,
// the dead-letter topic or the commit failed after their own retries (for
// a pipelined flush, possibly one handed off by an earlier call): the
// caller stops the worker, and the partition is replayed from the last
// commit.
func (w *Worker) Handle(ctx context.Context, m kafka.Message) error {
	if len(w.inFlight) > 0 {
		if err := w.Poll(ctx); err != nil {
			return err
		}
	}
	w.counters.Messages.Add(1)
	w.nextOffset = m.Offset + 1
	ev := &w.event
	if err := w.decoder.Decode(m.Value, ev); err != nil {
		return w.reject(ctx, m, err)
	}
	if !bytes.Equal(m.Key, ev.User) {
		// Partitioning by anything but the token breaks per-partition
		// exactness: one person's events in several partitions would count
		// as several people, multiplying every sensitivity.
		w.counters.KeyMismatch.Add(1)
		return w.reject(ctx, m, errKeyMismatch)
	}
	if w.spec.Late(ev.TS, w.wm.value) {
		w.counters.Late.Add(1)
		return w.closeReady(ctx)
	}
	w.add(m.Offset, ev)
	return w.closeReady(ctx)
}

// errKeyMismatch rejects a message whose Kafka key is not its event's user
// token (a null key included).
var errKeyMismatch = &schemas.RejectError{Reason: schemas.ReasonKeyMismatch, Detail: "the Kafka message key is not the event's user token"}

// add aggregates one on-time event into its window and lets the watermark
// follow what the countable events corroborate. A backfill aggregates the
// windows outside its range too, for the watermark, but counts their
// events as out of range and never flushes them.
func (w *Worker) add(offset int64, ev *schemas.Event) {
	win := w.spec.WindowOf(ev.TS)
	inRange := w.policy.Keep == nil || w.policy.Keep(win)
	if ev.Category.Sensitive() && ev.Age != schemas.AgeMinor {
		w.count(cohorts.Sensitive, inRange) // no state at all, not even a window
		return
	}
	ow := w.window(win, offset)
	ow.lastOffset = offset
	user := w.rekey.User(ev.User)
	outcome := ow.state.Add(user, w.rekey.EventID(ev.ID), ev)
	if outcome == cohorts.Counted || outcome == cohorts.Bounded {
		if ow.top.observe(user, ev.TS, w.wm.quorum) {
			w.wm.follow(w.open)
		}
	}
	w.count(outcome, inRange)
}

// count adds one event to the counter of its outcome, or to OutOfRange.
func (w *Worker) count(o cohorts.Outcome, inRange bool) {
	if !inRange {
		w.counters.OutOfRange.Add(1)
		return
	}
	switch o {
	case cohorts.Counted:
		w.counters.Counted.Add(1)
	case cohorts.Bounded:
		w.counters.Bounded.Add(1)
	case cohorts.Duplicate:
		w.counters.Duplicates.Add(1)
	case cohorts.Minor:
		w.counters.Minors.Add(1)
	case cohorts.Sensitive:
		w.counters.Sensitive.Add(1)
	case cohorts.Overflow:
		w.counters.Overflow.Add(1)
	}
}

// window returns the open window win, opening it at offset if needed.
func (w *Worker) window(win cohorts.Window, offset int64) *openWindow {
	i, found := slices.BinarySearchFunc(w.open, win.Start, func(ow *openWindow, start int64) int {
		return cmp.Compare(ow.window.Start, start)
	})
	if found {
		return w.open[i]
	}
	ow := &openWindow{window: win, state: cohorts.NewWindowState(w.spec, win), firstOffset: offset}
	ow.state.Reserve(cohorts.Size{Cohorts: w.lastCohorts})
	w.open = slices.Insert(w.open, i, ow)
	return ow
}

func (w *Worker) reject(ctx context.Context, m kafka.Message, err error) error {
	reason, ok := schemas.ReasonOf(err)
	if !ok {
		return fmt.Errorf("BUG: decoder returned %v, not a rejection", err)
	}
	w.counters.Rejected.Add(1)
	w.counters.rejected[rejectClass(reason)].Add(1)
	dl := DeadLetter{Topic: w.topic, Partition: w.partition, Offset: m.Offset, Reason: reason, Key: m.Key, Value: m.Value}
	if reason == schemas.ReasonPIISuspected {
		dl.Key, dl.Value = nil, nil
	}
	if err := w.dead.Add(ctx, dl); err != nil {
		return err
	}
	return w.closeReady(ctx)
}

// closeReady flushes, oldest first, every open window the watermark has
// closed, then commits the low watermark if it moved.
func (w *Worker) closeReady(ctx context.Context) error {
	w.reportGauges()
	flushed := 0
	for _, ow := range w.open {
		if !w.spec.Closes(ow.window, w.wm.value) {
			break // windows are in start order and all have the same size
		}
		if w.policy.Keep == nil || w.policy.Keep(ow.window) {
			if err := w.flush(ctx, ow); err != nil {
				return err
			}
		}
		flushed++
	}
	if flushed == 0 {
		return nil
	}
	w.drop(flushed) // per-user state: privacy invariant 2
	w.reportGauges()
	return w.commitLowWatermark(ctx)
}

// drop releases the state of the n oldest open windows and forgets them.
func (w *Worker) drop(n int) {
	for _, ow := range w.open[:n] {
		w.lastCohorts = ow.state.Size().Cohorts
		ow.state.Release()
	}
	clear(w.open[:n])
	w.open = w.open[n:]
}

// Release drops every open window without flushing it, and abandons the
// flushes still in flight (stopping the flusher and waiting for it): the
// worker stops, and whoever takes the partition over replays them from the
// commit, which never passed them.
func (w *Worker) Release() {
	w.stopFlusher()
	w.drop(len(w.open))
}

// Drain flushes every window still open, as if event time had ended: a
// bounded source (a backfill) has nothing more for them, where streaming
// would wait. It waits for every flush in flight, then commits.
func (w *Worker) Drain(ctx context.Context) error {
	w.wm.advanceTo(math.MaxInt64)
	if err := w.closeReady(ctx); err != nil {
		return err
	}
	return w.settle(ctx)
}

// Closed reports whether the watermark has closed win: no later message
// can change it.
func (w *Worker) Closed(win cohorts.Window) bool { return w.spec.Closes(win, w.wm.value) }

// NextOffset is the offset after the last message handled; -1 before the
// first.
func (w *Worker) NextOffset() int64 { return w.nextOffset }

// commitLowWatermark commits the smallest first offset of the windows not
// yet durable, open or in flight (not necessarily the oldest window's: an
// out-of-order event can open an older window after a newer one), or the
// next offset when there are none, once the dead letters up to it are
// durable.
func (w *Worker) commitLowWatermark(ctx context.Context) error {
	offset := w.nextOffset
	for _, ow := range w.open {
		offset = min(offset, ow.firstOffset)
	}
	for _, f := range w.inFlight {
		offset = min(offset, f.firstOffset)
	}
	if offset <= w.committed {
		return nil
	}
	if err := w.dead.Flush(ctx); err != nil {
		return err
	}
	if err := w.commit(ctx, offset); err != nil {
		return fmt.Errorf("committing offset %d of %s/%d: %w", offset, w.topic, w.partition, err)
	}
	w.committed = offset
	w.counters.Commits.Add(1)
	return nil
}
