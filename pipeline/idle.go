package pipeline

import (
	"context"
	"time"
)

// idle is called when the partition received nothing for the idle timeout.
// It moves event time on with the wall clock (now minus the out-of-order
// bound), so the windows of a quiet partition still close, then commits what
// is durable: the dead letters of a partition that only received bad
// messages are committed here too.
func (w *partitionWorker) idle(ctx context.Context, now time.Time) error {
	w.wm.advanceTo(now.UnixMilli() - w.wm.bound)
	if err := w.closeReady(ctx); err != nil {
		return err
	}
	if w.nextOffset < 0 {
		return nil // nothing read yet: nothing to commit
	}
	return w.commitLowWatermark(ctx)
}
