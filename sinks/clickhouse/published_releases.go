package clickhouse

import (
	"context"
	"fmt"
	"time"
)

// PublishedRelease is one row of published_releases: a release of a
// window whose rows readers of the published database may see, written
// right after its privacy_ledger row and before its rows (DDL 0012). The
// targeter's views show only rows whose (window_start, release,
// published_at) has one.
type PublishedRelease struct {
	WindowStart time.Time // UTC, whole seconds
	WindowEnd   time.Time // UTC, whole seconds, after WindowStart
	Release     string
	PublishedAt time.Time // the ledger's released_at and the rows' published_at
	Mode        string    // production, development or test
}

// AppendPublishedRelease records r in the published database, retrying
// retryable errors; a repeat of a row is harmless (readers test
// membership).
func (c *Client) AppendPublishedRelease(ctx context.Context, r PublishedRelease) error {
	table := c.table(c.cfg.PublishedDatabase, "published_releases")
	what := fmt.Sprintf("recording release %q of window %s in %s", r.Release, r.WindowStart.UTC().Format(time.RFC3339), table)
	probe := EnrichmentRow{WindowStart: r.WindowStart, WindowEnd: r.WindowEnd, CohortKey: "-"}
	if err := probe.check(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if r.Release == "" || r.PublishedAt.Unix() <= 0 {
		return fmt.Errorf("%s: no release name or publish time", what)
	}
	insert := "INSERT INTO " + table + " (window_start, window_end, release, published_at, mode)"
	err := retry(ctx, c.cfg.Retry, func(ctx context.Context) error {
		batch, err := c.conn.PrepareBatch(ctx, insert)
		if err != nil {
			return err
		}
		defer batch.Close()
		if err := batch.Append(r.WindowStart, r.WindowEnd, r.Release, r.PublishedAt, r.Mode); err != nil {
			return err
		}
		return batch.Send()
	})
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// PublishedModes returns the distinct modes of the releases in the
// published database, sorted; "" stands for releases of unknown mode
// (made before migration 0012). A published database is bound to the
// mode of its releases (cohorts/publish checks it).
func (c *Client) PublishedModes(ctx context.Context) ([]string, error) {
	table := c.table(c.cfg.PublishedDatabase, "published_releases")
	modes, err := queryValues[string](ctx, c, "SELECT DISTINCT mode FROM "+table+" ORDER BY mode")
	if err != nil {
		return nil, fmt.Errorf("reading the modes of the releases in %s: %w", table, err)
	}
	return modes, nil
}
