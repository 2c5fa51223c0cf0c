package clickhouse

import (
	"context"
	"fmt"
	"time"

	"github.com/cohortline/cohortline/schemas"
)

// FlushedWindows returns the windows of topic that some partition flushed
// at or after since (wall clock, whatever the windows' event time), oldest
// window first. Backfill flushes (backfill_progress) are not in it: a
// backfill publishes the windows it replaced itself.
func (c *Client) FlushedWindows(ctx context.Context, topic string, since time.Time) ([]schemas.FlushedWindow, error) {
	q := `SELECT window_start, any(window_end), min(flushed_at), max(flushed_at) AS last
		FROM ` + c.table(c.cfg.Database, "window_progress") + `
		WHERE topic = ?
		GROUP BY window_start HAVING last >= toDateTime(?) ORDER BY window_start`
	var out []schemas.FlushedWindow
	err := retry(ctx, c.cfg.Retry, func(ctx context.Context) error {
		out = out[:0]
		rows, err := c.conn.Query(ctx, q, topic, since.Unix())
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var w schemas.FlushedWindow
			if err := rows.Scan(&w.Start, &w.End, &w.FirstFlush, &w.LastFlush); err != nil {
				return err
			}
			w.Start, w.End, w.FirstFlush, w.LastFlush = w.Start.UTC(), w.End.UTC(), w.FirstFlush.UTC(), w.LastFlush.UTC()
			out = append(out, w)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("reading the flushed windows of topic %q: %w", topic, err)
	}
	return out, nil
}

// PartitionWatermarks returns, per partition of topic that streaming ever
// flushed, the highest watermark it flushed with (epoch ms): every window that ends
// (plus the allowed lateness) at or before it is final in that partition.
func (c *Client) PartitionWatermarks(ctx context.Context, topic string) (map[int32]int64, error) {
	q := `SELECT partition, max(watermark) FROM ` + c.table(c.cfg.Database, "window_progress") + `
		WHERE topic = ? GROUP BY partition`
	out := map[int32]int64{}
	err := retry(ctx, c.cfg.Retry, func(ctx context.Context) error {
		clear(out)
		rows, err := c.conn.Query(ctx, q, topic)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var p int32
			var wm int64
			if err := rows.Scan(&p, &wm); err != nil {
				return err
			}
			out[p] = wm
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("reading the watermarks of topic %q: %w", topic, err)
	}
	return out, nil
}

// LastReleases returns, per window start at or after since, when release
// last published it (privacy_ledger.released_at).
func (c *Client) LastReleases(ctx context.Context, release string, since time.Time) (map[time.Time]time.Time, error) {
	q := `SELECT window_start, max(released_at) FROM ` + c.table(c.cfg.Database, "privacy_ledger") + `
		WHERE release = ? AND window_start >= toDateTime(?) GROUP BY window_start`
	out := map[time.Time]time.Time{}
	err := retry(ctx, c.cfg.Retry, func(ctx context.Context) error {
		clear(out)
		rows, err := c.conn.Query(ctx, q, release, since.Unix())
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var ws, at time.Time
			if err := rows.Scan(&ws, &at); err != nil {
				return err
			}
			out[ws.UTC()] = at.UTC()
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("reading the releases of %s: %w", release, err)
	}
	return out, nil
}
