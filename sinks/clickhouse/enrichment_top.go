package clickhouse

import (
	"context"
	"fmt"
)

// TopCohorts returns the n largest published cohorts of the busiest
// window: the window whose published rows cover the most users. Of a
// republished cohort it returns the newest publish. No rows when nothing
// is published.
func (c *Client) TopCohorts(ctx context.Context, n int) ([]EnrichmentRow, error) {
	table := c.table(c.cfg.PublishedDatabase, "cohort_enrichment")
	// The newest publish of each cohort of the busiest window (the most
	// published users), largest first. Scalar subqueries in WHERE work on
	// 18.16.
	busiest := "window_start = (SELECT window_start FROM " + table + " GROUP BY window_start ORDER BY sum(users) DESC, window_start LIMIT 1)"
	out, err := c.queryEnrichment(ctx, latestEnrichmentQuery(table, "published_at", busiest, fmt.Sprintf("ORDER BY n DESC, key LIMIT %d", n)))
	if err != nil {
		return nil, fmt.Errorf("reading the top cohorts from %s.cohort_enrichment: %w", c.cfg.PublishedDatabase, err)
	}
	return out, nil
}
