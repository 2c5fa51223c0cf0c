package pipeline

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/cohortline/cohortline/pipeline/pipelinetest"
)

// TestPipelinedFlushReadsOnAndCommitsOnAck: with the sink holding each
// write until the test answers, the worker reads on past a closed window
// until max_in_flight_flushes are unacknowledged and not one message
// further; the sink gets the windows in the order they closed, with the
// rows and versions of a synchronous run; no offset is committed before
// the windows it passes are stored; and after the drain the stored
// partials equal the synchronous run's.
func TestPipelinedFlushReadsOnAndCommitsOnAck(t *testing.T) {
	msgs := testMessages(t, 6000)
	for _, n := range []int{2, 3} {
		t.Run(fmt.Sprintf("in flight %d", n), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				cfg := testWorkerConfig(t, time.Minute, 5*time.Minute) // many windows, several open at once
				ref := syncReference(t, cfg, msgs)
				cfg.MaxInFlightFlushes = n
				sink := newGatedSink()
				r := startPipelined(t, t.Context(), cfg, msgs, sink, ref.order)
				for i, want := range ref.order {
					g := <-sink.writes
					if g.flush != want {
						t.Fatalf("write %d is %+v, want %+v (the synchronous run's, in order)", i, g.flush, want)
					}
					synctest.Wait() // the worker reads until it must wait
					// Flushes 0..i-1 are acknowledged, i is held: the worker
					// stops right after handing off flush i+n-1 (the last
					// ones close when the drain does, after the last message).
					stop := ref.order[min(i+n-1, len(ref.order)-1)].Version
					if got := r.counters.Messages.Load(); got != stop {
						t.Fatalf("write %d held: the worker handled %d messages, want %d (stopped by %d flushes in flight)", i, got, stop, n)
					}
					if c := r.lastCommit(); c > want.FirstOffset {
						t.Fatalf("write %d held: offset %d committed, past its first offset %d", i, c, want.FirstOffset)
					}
					g.answer <- nil
				}
				<-r.done
				if r.err != nil {
					t.Fatal(r.err)
				}
				if got := r.lastCommit(); got != int64(len(msgs)) {
					t.Errorf("last commit %d, want %d: every window stored", got, len(msgs))
				}
				if !slices.IsSorted(r.commits) {
					t.Errorf("commits went back: %v", r.commits)
				}
				if !mapsEqualRows(sink.stored, ref.MemorySink) {
					t.Errorf("stored partials differ from the synchronous run's")
				}
				if n := r.counters.Flushes.Load(); n != uint64(len(ref.order)) {
					t.Errorf("%d flushes counted, want %d", n, len(ref.order))
				}
				r.mem.AssertSize(t, 0)
			})
		})
	}
}

func mapsEqualRows(a, b *pipelinetest.MemorySink) bool {
	if len(a.Rows) != len(b.Rows) {
		return false
	}
	for k, rows := range a.Rows {
		other, ok := b.Rows[k]
		if !ok || len(rows) != len(other) {
			return false
		}
		for id, row := range rows {
			if other[id] != row || a.Flushes[k] != b.Flushes[k] {
				return false
			}
		}
	}
	return true
}

// TestPipelinedFlushErrorStopsTheWorker: when the sink fails a flush, the
// worker returns that error, the flusher writes no later window (stored
// over a missing one, it would make a resume skip the missing window's
// messages as late), nothing is committed past the failed window, and a
// restart from the commit ends with the synchronous run's partials.
func TestPipelinedFlushErrorStopsTheWorker(t *testing.T) {
	msgs := testMessages(t, 6000)
	synctest.Test(t, func(t *testing.T) {
		cfg := testWorkerConfig(t, time.Minute, 5*time.Minute)
		ref := syncReference(t, cfg, msgs)
		cfg.MaxInFlightFlushes = 3
		sink := newGatedSink()
		r := startPipelined(t, t.Context(), cfg, msgs, sink, ref.order)
		(<-sink.writes).answer <- nil
		failed := <-sink.writes
		synctest.Wait() // window 2 queued behind it
		failed.answer <- pipelinetest.ErrInjected
		<-r.done
		if !errors.Is(r.err, pipelinetest.ErrInjected) || !strings.Contains(r.err.Error(), "flushing window") {
			t.Fatalf("worker returned %v, want the sink's error, saying what was being flushed", r.err)
		}
		if n := sink.callCount(); n != 2 {
			t.Errorf("the sink got %d writes, want 2: nothing after the failed one", n)
		}
		if c := r.lastCommit(); c > failed.flush.FirstOffset {
			t.Errorf("offset %d committed, past the failed window's first offset %d", c, failed.flush.FirstOffset)
		}
		r.mem.AssertSize(t, 0) // the queued records were released

		// The consumer restarts the partition from the commit.
		from := max(r.lastCommit(), 0)
		restart := newGatedSink()
		restart.stored = sink.stored
		r2 := startPipelined(t, t.Context(), cfg, msgs[from:], restart, nil)
		go func() {
			for g := range restart.writes {
				g.answer <- nil
			}
		}()
		<-r2.done
		close(restart.writes)
		if r2.err != nil {
			t.Fatal(r2.err)
		}
		if !mapsEqualRows(restart.stored, ref.MemorySink) {
			t.Errorf("after the restart from offset %d, the partials differ from the synchronous run's", from)
		}
	})
}

// TestPipelinedFlushReleaseAbandons: a worker stopped (revoke, shutdown)
// with flushes in flight cancels the one being written, releases the
// queued ones and waits for its flusher; it commits none of them. (The
// bubble fails the test if any goroutine outlives it.)
func TestPipelinedFlushReleaseAbandons(t *testing.T) {
	msgs := testMessages(t, 6000)
	synctest.Test(t, func(t *testing.T) {
		cfg := testWorkerConfig(t, time.Minute, 5*time.Minute)
		ref := syncReference(t, cfg, msgs)
		cfg.MaxInFlightFlushes = 2
		sink := newGatedSink()
		ctx, cancel := context.WithCancel(t.Context())
		r := startPipelined(t, ctx, cfg, msgs, sink, ref.order)
		held := <-sink.writes
		synctest.Wait() // the worker waits for it, a second window queued
		if got, want := r.counters.Messages.Load(), ref.order[1].Version; got != want {
			t.Fatalf("worker handled %d messages, want %d", got, want)
		}
		cancel()
		<-r.done
		if !errors.Is(r.err, context.Canceled) {
			t.Fatalf("worker returned %v, want context.Canceled", r.err)
		}
		if n := sink.callCount(); n != 1 || sink.durable(held.flush) {
			t.Errorf("%d writes, the held one stored %v: want 1, abandoned", n, sink.durable(held.flush))
		}
		if c := r.lastCommit(); c > held.flush.FirstOffset {
			t.Errorf("offset %d committed past the abandoned window's first offset %d", c, held.flush.FirstOffset)
		}
		r.mem.AssertSize(t, 0)
	})
}

// TestPollCommitsBetweenFetches: a flush acknowledged while no message
// comes is committed by Poll, which the consumer calls after every fetch.
func TestPollCommitsBetweenFetches(t *testing.T) {
	msgs := testMessages(t, 6000)
	synctest.Test(t, func(t *testing.T) {
		cfg := testWorkerConfig(t, time.Minute, 5*time.Minute)
		cfg.MaxInFlightFlushes = 3
		sink := newGatedSink()
		var commits []int64
		w := NewWorker(cfg, "activity", 0, sink, &memoryDeadLetters{}, func(_ context.Context, offset int64) error {
			commits = append(commits, offset)
			return nil
		}, &Counters{})
		defer w.Release()
		for _, m := range msgs {
			if err := w.Handle(t.Context(), m); err != nil {
				t.Fatal(err)
			}
			if len(w.inFlight) > 0 {
				break // one window handed off: the reading pauses here
			}
		}
		if len(w.inFlight) != 1 || w.committed > w.inFlight[0].firstOffset {
			t.Fatalf("%d windows in flight, offset %d committed: want 1, not committed", len(w.inFlight), w.committed)
		}
		before := len(commits)
		(<-sink.writes).answer <- nil
		synctest.Wait() // stored and acknowledged
		if err := w.Poll(t.Context()); err != nil {
			t.Fatal(err)
		}
		want := w.nextOffset
		for _, ow := range w.open {
			want = min(want, ow.firstOffset)
		}
		if !slices.Equal(commits[before:], []int64{want}) {
			t.Errorf("commits by Poll %v, want [%d], the low watermark", commits[before:], want)
		}
	})
}

// TestIdleWaitsForFlushesInFlight: a quiet partition has nothing to read,
// so Idle closes its windows, waits for every flush in flight and commits
// the end: a partition at the end of its data commits it at once, not at
// its next message.
func TestIdleWaitsForFlushesInFlight(t *testing.T) {
	msgs := testMessages(t, 6000)
	synctest.Test(t, func(t *testing.T) {
		cfg := testWorkerConfig(t, time.Minute, 5*time.Minute)
		cfg.MaxInFlightFlushes = 4
		sink := newGatedSink()
		var commits []int64
		w := NewWorker(cfg, "activity", 0, sink, &memoryDeadLetters{}, func(_ context.Context, offset int64) error {
			commits = append(commits, offset)
			return nil
		}, &Counters{})
		defer w.Release()
		go func() {
			for g := range sink.writes {
				g.answer <- nil
			}
		}()
		defer close(sink.writes)
		for _, m := range msgs {
			if err := w.Handle(t.Context(), m); err != nil {
				t.Fatal(err)
			}
		}
		end := time.UnixMilli(w.open[len(w.open)-1].window.End).Add(time.Hour)
		if err := w.Idle(t.Context(), end); err != nil {
			t.Fatal(err)
		}
		if len(w.inFlight) != 0 || len(w.open) != 0 {
			t.Errorf("after Idle: %d flushes in flight, %d windows open; want none", len(w.inFlight), len(w.open))
		}
		if got := commits[len(commits)-1]; got != int64(len(msgs)) {
			t.Errorf("Idle committed %d, want %d, the end", got, len(msgs))
		}
	})
}
