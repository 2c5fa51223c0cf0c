package clickhouse

import (
	"context"
	"fmt"
	"time"
)

// LastProgress returns the newest complete streaming flush of a topic's
// partition: the window_progress row with the highest flush_version
// (streaming versions grow with the offsets), the latest window on a tie.
// Backfills record their flushes in backfill_progress: they say nothing of
// the live position. ok is false when the partition has never flushed. A
// worker taking the partition over restores its watermark from it.
func (c *Client) LastProgress(ctx context.Context, topic string, partition int32) (p Progress, ok bool, err error) {
	q := `SELECT window_start, window_end, flush_version, rows, first_offset, last_offset, watermark
		FROM ` + c.table(c.cfg.Database, "window_progress") + `
		WHERE topic = ? AND partition = ?
		ORDER BY flush_version DESC, window_start DESC
		LIMIT 1`
	err = retry(ctx, c.cfg.Retry, func(ctx context.Context) error {
		rows, err := c.conn.Query(ctx, q, topic, partition)
		if err != nil {
			return err
		}
		defer rows.Close()
		if ok = rows.Next(); !ok {
			return rows.Err()
		}
		var n uint64
		var watermark int64
		if err := rows.Scan(&p.WindowStart, &p.WindowEnd, &p.FlushVersion, &n, &p.FirstOffset, &p.LastOffset, &watermark); err != nil {
			return err
		}
		p.Rows, p.Watermark = int64(n), time.UnixMilli(watermark).UTC()
		p.WindowStart, p.WindowEnd = p.WindowStart.UTC(), p.WindowEnd.UTC()
		return rows.Err()
	})
	if err != nil {
		return Progress{}, false, fmt.Errorf("reading the last flush of topic %q partition %d: %w", topic, partition, err)
	}
	p.Topic, p.Partition = topic, partition
	return p, ok, nil
}
