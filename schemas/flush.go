package schemas

import (
	"fmt"
	"time"
)

// Flush is one flushed (window, topic, partition): a row of window_progress
// (streaming) or backfill_progress (a committed backfill), and the one
// description of a flush that the pipeline, its sinks, the backfill
// checkpoint and the publisher share. The sink stores it after the
// partials, so that its presence means the flush is complete; the worker
// that takes over a partition (after a restart or a rebalance) reads the
// newest one back to resume exactly.
//
// Its fields have no JSON tags: a backfill checkpoint stores flushes as
// they are, so renaming one breaks resuming an older checkpoint.
type Flush struct {
	// WindowStart and WindowEnd are epoch ms, whole seconds. A sink takes a
	// WindowEnd of 0 from the rows (1970 for an empty flush).
	WindowStart, WindowEnd int64
	Topic                  string
	Partition              int
	// Version orders re-flushes of the same window and partition: readers use
	// the highest. Streaming uses the offset after the message that closed
	// the window, so a replay re-flushes with the same version; a backfill
	// one at or above FirstBackfillVersion.
	Version uint64
	// Rows is the number of partials: 0 is a complete flush of a partition
	// with no cohort.
	Rows int
	// FirstOffset and LastOffset are the source offsets of the window's
	// first and last counted message in this partition.
	FirstOffset, LastOffset int64
	// Watermark is the partition's event-time watermark (epoch ms) when the
	// window was flushed: restoring it on resume makes a replay treat every
	// message exactly as the first run did.
	Watermark int64
}

// String names the flush in errors and logs.
func (f Flush) String() string {
	return fmt.Sprintf("window %s topic %q partition %d version %d (%d rows)",
		time.UnixMilli(f.WindowStart).UTC().Format(time.RFC3339), f.Topic, f.Partition, f.Version, f.Rows)
}

// FlushedWindow is what window_progress says of one window of a topic,
// over its partitions: when it was first and last flushed (wall clock).
// The automatic publisher (publish.Scheduler) decides by it.
type FlushedWindow struct {
	Start, End            time.Time // UTC
	FirstFlush, LastFlush time.Time // flushed_at of its earliest and latest flush
}
