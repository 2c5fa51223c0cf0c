package pipeline

import (
	"context"
	"time"
)

// idle is called when the partition received nothing for the idle timeout.
// It closes the open windows as if event time had reached the end of the
// newest one plus the allowed lateness, but never past the wall clock
// minus the out-of-order bound: a quiet partition's windows still close
// once their hour is over, a live window is not cut short, and the
// watermark does not jump to the wall clock, so a backlog of later history
// that arrives after a quiet spell (a producer catching up) still counts
// (DESIGN.md, "Watermarks"). Then it waits for the flushes in flight and
// commits what is durable: the dead
// letters of a partition that only received bad messages are committed
// here too.
func (w *Worker) Idle(ctx context.Context, now time.Time) error {
	if n := len(w.open); n > 0 {
		newest := w.open[n-1].window // open is sorted by start
		closeAll := newest.End + w.spec.AllowedLateness.Milliseconds()
		before := w.wm.value
		w.wm.advanceTo(min(closeAll, now.UnixMilli()-w.wm.bound))
		if w.wm.value != before {
			w.log.Info("partition idle: closing its windows", "topic", w.topic, "partition", w.partition,
				"open_windows", n, "watermark", time.UnixMilli(w.wm.value).UTC().Format(time.RFC3339))
		}
	}
	if err := w.closeReady(ctx); err != nil {
		return err
	}
	// Nothing to read meanwhile: wait for the flushes in flight, so that
	// a partition at its end commits them now, not at its next message.
	if err := w.settle(ctx); err != nil {
		return err
	}
	if w.nextOffset < 0 {
		return nil // nothing read yet: nothing to commit
	}
	return w.commitLowWatermark(ctx)
}
