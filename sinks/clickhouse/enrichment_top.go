package clickhouse

import (
	"context"
	"fmt"
)

// topCohortsQuery reads the newest publish of each cohort of the busiest
// window (the most published users), largest cohorts first. Scalar
// subqueries in WHERE work on 18.16.
const topCohortsQuery = `
SELECT
    cohort_id,
    tupleElement(latest, 1) AS ws,
    tupleElement(latest, 2) AS we,
    tupleElement(latest, 3) AS key,
    tupleElement(latest, 4) AS lvl,
    tupleElement(latest, 5) AS n,
    tupleElement(latest, 6) AS f,
    tupleElement(latest, 7) AS fs,
    tupleElement(latest, 8) AS rel,
    tupleElement(latest, 9) AS pub
FROM
(
    SELECT
        cohort_id,
        argMax(
            (window_start, window_end, cohort_key, level, users, features, feature_set, release, published_at),
            published_at
        ) AS latest
    FROM %[1]s
    WHERE window_start = (SELECT window_start FROM %[1]s GROUP BY window_start ORDER BY sum(users) DESC, window_start LIMIT 1)
    GROUP BY cohort_id
)
ORDER BY n DESC, key
LIMIT %[2]d`

// TopCohorts returns the n largest published cohorts of the busiest
// window: the window whose published rows cover the most users. Of a
// republished cohort it returns the newest publish. No rows when nothing
// is published.
func (c *Client) TopCohorts(ctx context.Context, n int) ([]EnrichmentRow, error) {
	q := fmt.Sprintf(topCohortsQuery, c.table(c.cfg.PublishedDatabase, "cohort_enrichment"), n)
	var out []EnrichmentRow
	err := retry(ctx, c.cfg.Retry, func(ctx context.Context) error {
		out = out[:0]
		rows, err := c.conn.Query(ctx, q)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var r EnrichmentRow
			if err := rows.Scan(&r.CohortID, &r.WindowStart, &r.WindowEnd, &r.CohortKey, &r.Level, &r.Users,
				&r.Features, &r.FeatureSet, &r.Release, &r.PublishedAt); err != nil {
				return err
			}
			r.WindowStart, r.WindowEnd, r.PublishedAt = r.WindowStart.UTC(), r.WindowEnd.UTC(), r.PublishedAt.UTC()
			out = append(out, r)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("reading the top cohorts from %s.cohort_enrichment: %w", c.cfg.PublishedDatabase, err)
	}
	return out, nil
}
