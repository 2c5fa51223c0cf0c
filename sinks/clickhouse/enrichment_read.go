package clickhouse

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// latestEnrichmentQuery selects, of the cohort_enrichment rows in table
// that match where, one row per cohort: the greatest by the expression by
// (argMax), in queryEnrichment's column order, then tail (ORDER BY, LIMIT).
// It is the shape of the cohort_enrichment_latest view (DDL 0005) with the
// filter inside, not a query of the view, because 18.16 does not push a
// WHERE into a view: through the view every lookup would read the whole
// table, here it reads the granules it needs (the table is ordered by
// cohort_id). TestReadEnrichmentMatchesLatestView keeps the two equal.
// Aliases differ from column names, as in the view.
func latestEnrichmentQuery(table, by, where, tail string) string {
	return `
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
            ` + by + `
        ) AS latest
    FROM ` + table + `
    WHERE ` + where + `
    GROUP BY cohort_id
)
` + tail
}

// queryEnrichment runs a latestEnrichmentQuery, retrying retryable errors.
func (c *Client) queryEnrichment(ctx context.Context, q string) ([]EnrichmentRow, error) {
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
	return out, err
}

// ReadEnrichment returns the published rows of the cohorts ids, at most
// one each, ordered by cohort id; cohorts with no row are left out. With
// a zero window it returns each cohort's newest window (what
// cohort_enrichment_latest shows), else the row of the window that starts
// at window. Of a republished window it returns the newest publish.
//
// It only reads the published database, so the targeter's read-only
// account can run it.
func (c *Client) ReadEnrichment(ctx context.Context, ids []uint64, window time.Time) ([]EnrichmentRow, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	list := make([]string, len(ids))
	for i, id := range ids {
		list[i] = strconv.FormatUint(id, 10)
	}
	filter, what := "", "the newest window"
	if !window.IsZero() {
		filter = fmt.Sprintf(" AND window_start = toDateTime(%d)", window.Unix())
		what = "window " + window.UTC().Format(time.RFC3339)
	}
	where := "cohort_id IN (" + strings.Join(list, ", ") + ")" + filter
	q := latestEnrichmentQuery(c.table(c.cfg.PublishedDatabase, "cohort_enrichment"), "(window_start, published_at)", where, "ORDER BY cohort_id")
	out, err := c.queryEnrichment(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("reading %s of %d cohorts from %s.cohort_enrichment: %w", what, len(ids), c.cfg.PublishedDatabase, err)
	}
	return out, nil
}

// FeatureDictionary returns the entries of one feature set, by index.
// Repeats of an entry (the dictionary is written again by every publish
// start) count once.
func (c *Client) FeatureDictionary(ctx context.Context, featureSet uint16) ([]DictionaryEntry, error) {
	q := "SELECT `index`, any(name), any(description), any(unit) FROM " + c.cfg.PublishedDatabase +
		".feature_dictionary WHERE feature_set = " + strconv.Itoa(int(featureSet)) + " GROUP BY `index` ORDER BY `index`"
	var out []DictionaryEntry
	err := retry(ctx, c.cfg.Retry, func(ctx context.Context) error {
		out = out[:0]
		rows, err := c.conn.Query(ctx, q)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			e := DictionaryEntry{FeatureSet: featureSet}
			if err := rows.Scan(&e.Index, &e.Name, &e.Description, &e.Unit); err != nil {
				return err
			}
			out = append(out, e)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("reading feature set %d from %s.feature_dictionary: %w", featureSet, c.cfg.PublishedDatabase, err)
	}
	return out, nil
}
