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
	out, err := queryRows(ctx, c, func(scan func(...any) error) (schemas.FlushedWindow, error) {
		var w schemas.FlushedWindow
		err := scan(&w.Start, &w.End, &w.FirstFlush, &w.LastFlush)
		w.Start, w.End, w.FirstFlush, w.LastFlush = w.Start.UTC(), w.End.UTC(), w.FirstFlush.UTC(), w.LastFlush.UTC()
		return w, err
	}, q, topic, since.Unix())
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
	out, err := queryPairs[int32, int64](ctx, c, q, topic)
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
	releases, err := queryPairs[time.Time, time.Time](ctx, c, q, release, since.Unix())
	if err != nil {
		return nil, fmt.Errorf("reading the releases of %s: %w", release, err)
	}
	out := make(map[time.Time]time.Time, len(releases))
	for start, at := range releases {
		out[start.UTC()] = at.UTC()
	}
	return out, nil
}
