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
	type mark struct {
		partition int32
		watermark int64
	}
	marks, err := queryRows(ctx, c, func(scan func(...any) error) (mark, error) {
		var m mark
		return m, scan(&m.partition, &m.watermark)
	}, q, topic)
	if err != nil {
		return nil, fmt.Errorf("reading the watermarks of topic %q: %w", topic, err)
	}
	out := make(map[int32]int64, len(marks))
	for _, m := range marks {
		out[m.partition] = m.watermark
	}
	return out, nil
}

// LastReleases returns, per window start at or after since, when release
// last published it (privacy_ledger.released_at).
func (c *Client) LastReleases(ctx context.Context, release string, since time.Time) (map[time.Time]time.Time, error) {
	q := `SELECT window_start, max(released_at) FROM ` + c.table(c.cfg.Database, "privacy_ledger") + `
		WHERE release = ? AND window_start >= toDateTime(?) GROUP BY window_start`
	releases, err := queryRows(ctx, c, func(scan func(...any) error) ([2]time.Time, error) {
		var r [2]time.Time // window start, released at
		return r, scan(&r[0], &r[1])
	}, q, release, since.Unix())
	if err != nil {
		return nil, fmt.Errorf("reading the releases of %s: %w", release, err)
	}
	out := make(map[time.Time]time.Time, len(releases))
	for _, r := range releases {
		out[r[0].UTC()] = r[1].UTC()
	}
	return out, nil
}
