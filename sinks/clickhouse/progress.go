package clickhouse

import (
	"context"
	"fmt"
	"time"

	"github.com/cohortline/cohortline/schemas"
)

// LastFlush returns the newest complete streaming flush of a topic's
// partition: the window_progress row with the highest flush_version
// (streaming versions grow with the offsets), the latest window on a tie.
// Backfills record their flushes in backfill_progress: they say nothing of
// the live position. ok is false when the partition has never flushed. A
// worker taking the partition over restores its watermark from it. With
// WritePartials it makes the Writer the pipeline's Sink.
func (w *Writer) LastFlush(ctx context.Context, topic string, partition int) (schemas.Flush, bool, error) {
	c := w.c
	q := `SELECT window_start, window_end, flush_version, rows, first_offset, last_offset, watermark
		FROM ` + c.table(c.cfg.Database, "window_progress") + `
		WHERE topic = ? AND partition = ?
		ORDER BY flush_version DESC, window_start DESC
		LIMIT 1`
	flushes, err := queryRows(ctx, c, func(scan func(...any) error) (schemas.Flush, error) {
		f := schemas.Flush{Topic: topic, Partition: partition}
		var n uint64
		var start, end time.Time
		err := scan(&start, &end, &f.Version, &n, &f.FirstOffset, &f.LastOffset, &f.Watermark)
		f.Rows, f.WindowStart, f.WindowEnd = int(n), start.UnixMilli(), end.UnixMilli()
		return f, err
	}, q, topic, int32(partition))
	if err != nil {
		return schemas.Flush{}, false, fmt.Errorf("reading the last flush of topic %q partition %d: %w", topic, partition, err)
	}
	if len(flushes) == 0 {
		return schemas.Flush{}, false, nil
	}
	return flushes[0], true, nil
}
