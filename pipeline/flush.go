package pipeline

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/apache/arrow/go/v15/arrow"

	"github.com/cohortline/cohortline/cohorts"
	"github.com/cohortline/cohortline/schemas"
)

// A closed window's flush: its record and window_progress row, built on the
// worker's goroutine, and the write, on the worker's goroutine or on its
// flusher's (flusher.go).

// flush writes the closed window ow to the sink: at once, or through the
// flusher when flushes are pipelined.
func (w *Worker) flush(ctx context.Context, ow *openWindow) error {
	c := w.closedFlush(ow)
	if w.maxInFlight > 1 {
		return w.handOff(ctx, c, ow.firstOffset)
	}
	defer c.rec.Release()
	return w.write(ctx, &c)
}

// closedFlush is a closed window on its way to the sink: its partials and
// its window_progress row, everything the write needs once the window's
// per-user state is gone.
type closedFlush struct {
	rec       arrow.Record
	flush     schemas.Flush
	window    cohorts.Window
	retracted int
}

// closedFlush builds ow's record and flush row. It runs on the worker's
// goroutine, before ow is dropped: the version and the resume watermark
// are those of the moment the window closed (rules 1 and 3).
func (w *Worker) closedFlush(ow *openWindow) closedFlush {
	version := uint64(w.nextOffset)
	if w.policy.Version != 0 {
		version = w.policy.Version
	}
	rec := cohorts.PartialsRecord(w.mem, ow.window, w.topic, int32(w.partition), version, ow.state.Partials())
	return closedFlush{
		rec: rec,
		flush: schemas.Flush{
			WindowStart: ow.window.Start, WindowEnd: ow.window.End,
			Topic: w.topic, Partition: w.partition,
			Version: version, Rows: int(rec.NumRows()),
			FirstOffset: ow.firstOffset, LastOffset: ow.lastOffset,
			Watermark: w.resumeWatermark(ow),
		},
		window: ow.window, retracted: ow.state.Retracted(),
	}
}

// write gives c to the sink and counts it. It runs on the worker's
// goroutine or on its flusher's, and reads only what neither changes after
// the first message (the sink, topic, partition, log) and the counters,
// which are atomic.
func (w *Worker) write(ctx context.Context, c *closedFlush) error {
	start := time.Now()
	if err := w.sink.WritePartials(ctx, c.rec, c.flush); err != nil {
		return fmt.Errorf("flushing window %s of %s/%d: %w", c.window, w.topic, w.partition, err)
	}
	latency := time.Since(start)
	w.counters.Flushes.Add(1)
	w.counters.Retracted.Add(uint64(c.retracted))
	w.counters.flushTime.observe(latency)
	w.log.Info("window flushed", "topic", w.topic, "partition", w.partition, "window", c.window.String(),
		"rows", c.flush.Rows, "version", c.flush.Version, "latency_ms", float64(latency.Microseconds())/1000)
	return nil
}

// resumeWatermark is the watermark recorded with ow's flush, the one a
// worker taking the partition over restores (rule 3). It is the current
// watermark, unless the next open window closes at it too: that window's
// flush is still to come, and a crash before it must not resume at a
// watermark that makes its messages late (they would be skipped and the
// window never flushed). Then it is the smallest watermark that closes ow:
// every message before this one met a lower watermark (ow was open), and it
// closes no later window. The last window of the batch records the current
// watermark, and Sink.LastFlush prefers it on the version tie.
func (w *Worker) resumeWatermark(ow *openWindow) int64 {
	i := slices.Index(w.open, ow)
	if i+1 < len(w.open) && w.spec.Closes(w.open[i+1].window, w.wm.value) {
		return ow.window.End + w.spec.AllowedLateness.Milliseconds() // no overflow: the decoder bounds ts
	}
	return w.wm.value
}
