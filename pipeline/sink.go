package pipeline

import (
	"context"

	"github.com/apache/arrow/go/v15/arrow"

	"github.com/cohortline/cohortline/schemas"
)

// Sink is where closed windows go; clickhouse.Writer is one, on the
// shared row type schemas.Flush. WritePartials must be durable when it
// returns nil and idempotent for the same Flush.Version: the pipeline
// commits Kafka offsets only after it returns, and a replay writes the same
// rows again.
type Sink interface {
	// WritePartials writes the partials of one closed window of one
	// partition (rec has schemas.PartialsSchema, possibly zero rows), then
	// its flush record. It retries what is retryable and returns the rest.
	WritePartials(ctx context.Context, rec arrow.Record, flush schemas.Flush) error
	// LastFlush returns the newest flush of the partition: the highest
	// Version, and of the windows flushed with it the latest (WindowStart),
	// whose Watermark is the one to resume at; ok=false when it has none.
	LastFlush(ctx context.Context, topic string, partition int) (f schemas.Flush, ok bool, err error)
}
