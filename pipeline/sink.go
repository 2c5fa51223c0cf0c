package pipeline

import (
	"context"

	"github.com/apache/arrow/go/v15/arrow"
)

// Flush describes one flushed (window, topic, partition): the sink stores it
// beside the partials, after them, so that its presence means the flush is
// complete. The worker that takes over a partition (after a restart or a
// rebalance) reads the newest one back to resume exactly; see Resume.
type Flush struct {
	WindowStart, WindowEnd int64 // epoch ms
	Topic                  string
	Partition              int
	// Version orders re-flushes of the same window and partition: readers use
	// the highest. Streaming uses the offset after the message that closed
	// the window, so a replay re-flushes with the same version.
	Version uint64
	Rows    int
	// FirstOffset and LastOffset are the source offsets of the window's
	// first and last counted message in this partition.
	FirstOffset, LastOffset int64
	// Watermark is the partition's event-time watermark when the window was
	// flushed: restoring it on resume makes a replay treat every message
	// exactly as the first run did (see Resume).
	Watermark int64
}

// Sink is where closed windows go. WritePartials must be durable when it
// returns nil and idempotent for the same Flush.Version: the pipeline commits
// Kafka offsets only after it returns, and a replay writes the same rows
// again.
type Sink interface {
	// WritePartials writes the partials of one closed window of one
	// partition (rec has schemas.PartialsSchema, possibly zero rows), then
	// its Flush record. It retries what is retryable and returns the rest.
	WritePartials(ctx context.Context, rec arrow.Record, flush Flush) error
	// LastFlush returns the newest flush of the partition: the highest
	// Version, and of the windows flushed with it the latest (WindowStart),
	// whose Watermark is the one to resume at; ok=false when it has none.
	LastFlush(ctx context.Context, topic string, partition int) (f Flush, ok bool, err error)
}
