package clickhouse

import (
	"context"
	"fmt"
	"time"

	"github.com/cohortline/cohortline/schemas"
)

// currentPartialsQuery is cohort_partials_current (DDL 0003) with the window
// filter inside, where 18.16 cannot push it from outside a view, then summed
// over topics and partitions. sumForEach exists on 18.16 and adds arrays
// element-wise. feature_set is in the key so that rows of two feature sets
// (during a change of set) are never added together.
const currentPartialsQuery = `
SELECT window_start, any(window_end), cohort_id, any(cohort_key), feature_set,
       sum(users), sum(events), sumForEach(values)
FROM
(
    SELECT window_start, topic, partition, cohort_id, flush_version,
           any(window_end) AS window_end, any(cohort_key) AS cohort_key,
           any(feature_set) AS feature_set, any(users) AS users,
           any(events) AS events, any(values) AS values
    FROM %[1]s
    WHERE window_start >= toDateTime(%[3]d) AND window_start < toDateTime(%[4]d)
      AND (window_start, topic, partition, flush_version) %[5]s
      (
          SELECT window_start, topic, partition, max(flush_version)
          FROM
          (
              SELECT window_start, topic, partition, flush_version FROM %[2]s
              WHERE window_start >= toDateTime(%[3]d) AND window_start < toDateTime(%[4]d)
              UNION ALL
              SELECT window_start, topic, partition, flush_version FROM %[6]s
              WHERE window_start >= toDateTime(%[3]d) AND window_start < toDateTime(%[4]d)
          )
          GROUP BY window_start, topic, partition
      )
    GROUP BY window_start, topic, partition, cohort_id, flush_version
)
GROUP BY window_start, cohort_id, feature_set
ORDER BY window_start, cohort_id, feature_set`

// CurrentPartials returns the summed partials of the windows that start in
// [from, to), ordered by window and cohort id. Per (window, topic,
// partition) it reads only the newest complete flush, the one with the
// highest version in window_progress or backfill_progress: a re-flush replaces its partition's
// earlier rows even for cohorts it no longer has, and a flush still being
// written is not read. Repeats of one flush count once.
func (c *Client) CurrentPartials(ctx context.Context, from, to time.Time) ([]schemas.PartialRow, error) {
	in := "IN"
	if c.cfg.Cluster != "" {
		in = "GLOBAL IN"
	}
	q := fmt.Sprintf(currentPartialsQuery,
		c.table(c.cfg.Database, "cohort_partials"), c.table(c.cfg.Database, "window_progress"),
		from.Unix(), to.Unix(), in, c.table(c.cfg.Database, "backfill_progress"))
	span := fmt.Sprintf("[%s, %s)", from.UTC().Format(time.RFC3339), to.UTC().Format(time.RFC3339))
	out, err := queryRows(ctx, c, func(scan func(...any) error) (schemas.PartialRow, error) {
		var r schemas.PartialRow
		err := scan(&r.WindowStart, &r.WindowEnd, &r.CohortID, &r.CohortKey, &r.FeatureSet, &r.Users, &r.Events, &r.Values)
		r.WindowStart, r.WindowEnd = r.WindowStart.UTC(), r.WindowEnd.UTC()
		return r, err
	}, q)
	if err != nil {
		return nil, fmt.Errorf("reading current partials of windows %s: %w", span, err)
	}
	return out, nil
}
