package clickhouse

import (
	"context"
	"fmt"
)

// TopCohorts returns the n largest published cohorts of the busiest
// window: the window whose published rows cover the most users. It
// reads cohort_enrichment_current, as a targeter would: one version of
// each cohort's window, of ledgered releases. No rows when nothing is
// published.
func (c *Client) TopCohorts(ctx context.Context, n int) ([]EnrichmentRow, error) {
	view := c.table(c.cfg.PublishedDatabase, "cohort_enrichment_current")
	// Scalar subqueries in WHERE work on 18.16.
	q := fmt.Sprintf(`SELECT %s FROM %s
WHERE window_start = (SELECT window_start FROM %s GROUP BY window_start ORDER BY sum(users) DESC, window_start LIMIT 1)
ORDER BY users DESC, cohort_key LIMIT %d`, viewColumns, view, view, n)
	out, err := c.queryEnrichment(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("reading the top cohorts from %s: %w", view, err)
	}
	return out, nil
}
