package backfill

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/cohortline/cohortline/cohorts"
	"github.com/cohortline/cohortline/schemas"
)

// Watermarks says how far streaming has flushed each partition of a topic
// (epoch ms): sinks/clickhouse's Client.
type Watermarks interface {
	PartitionWatermarks(ctx context.Context, topic string) (map[int32]int64, error)
}

// CheckStreamingClosed refuses a range whose last window streaming has not
// closed in every partition it flushed: streaming would flush it again
// over the backfill's rows.
func CheckStreamingClosed(ctx context.Context, w Watermarks, topic string, spec *cohorts.Spec, to time.Time) error {
	marks, err := w.PartitionWatermarks(ctx, topic)
	if err != nil {
		return err
	}
	closesAt := to.Add(spec.AllowedLateness).UnixMilli()
	for p, wm := range marks {
		if wm < closesAt {
			return refusedf("backfill: streaming has not closed the range's last window yet: partition %d of %q is at watermark %s, the window closes at %s; backfill an earlier range or wait",
				p, topic, time.UnixMilli(wm).UTC().Format(time.RFC3339), time.UnixMilli(closesAt).UTC().Format(time.RFC3339))
		}
	}
	return nil
}

// Committer makes a backfill's flushes visible to readers at once:
// sinks/clickhouse's Writer.
type Committer interface {
	CommitBackfill(ctx context.Context, flushes []schemas.Flush) error
}

// Republish publishes the windows starting in [from, to) again.
type Republish func(ctx context.Context, from, to time.Time) error

// Commit makes the backfill's partials visible, republishes the range
// (unless republish is nil) and removes the checkpoint; each step is
// recorded in it, so a resume after a failure here does only what is left.
// It says what it committed on out.
func Commit(ctx context.Context, cp *Checkpoint, spec *cohorts.Spec, store Committer, republish Republish, out io.Writer) error {
	state := cp.State()
	if !state.Committed {
		flushes := cp.RangeFlushes(spec)
		if err := store.CommitBackfill(ctx, flushes); err != nil {
			return fmt.Errorf("%w; continue with --resume --checkpoint %s", err, cp.Path())
		}
		if err := cp.MarkCommitted(); err != nil {
			return err
		}
		fmt.Fprintf(out, "committed: %d windows × %d partitions replaced (flush version %d)\n",
			len(flushes)/max(len(state.Partitions), 1), len(state.Partitions), state.Version)
	}
	if !state.Published && republish != nil {
		if err := republish(ctx, state.From, state.To); err != nil {
			return fmt.Errorf("republishing: %w; the partials are committed: continue with --resume --checkpoint %s, or run cohortline publish for the range", err, cp.Path())
		}
		if err := cp.MarkPublished(); err != nil {
			return err
		}
	}
	return cp.Remove()
}
