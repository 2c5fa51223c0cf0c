package clickhouse

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// viewColumns are the columns of the targeter's views
// (cohort_enrichment_current and _latest, DDL 0012) and of cohort_latest
// (0015, which adds version), in queryEnrichment's order.
const viewColumns = "cohort_id, window_start, window_end, cohort_key, level, users, features, feature_set, release, published_at"

// queryEnrichment runs a query of viewColumns, retrying retryable errors.
func (c *Client) queryEnrichment(ctx context.Context, q string) ([]EnrichmentRow, error) {
	return queryRows(ctx, c, func(scan func(...any) error) (EnrichmentRow, error) {
		var r EnrichmentRow
		err := scan(&r.CohortID, &r.WindowStart, &r.WindowEnd, &r.CohortKey, &r.Level, &r.Users,
			&r.Features, &r.FeatureSet, &r.Release, &r.PublishedAt)
		r.WindowStart, r.WindowEnd, r.PublishedAt = r.WindowStart.UTC(), r.WindowEnd.UTC(), r.PublishedAt.UTC()
		return r, err
	}, q)
}

// ReadEnrichment returns the published rows of the cohorts ids, at most
// one each, ordered by cohort id; cohorts with no row are left out. With
// a zero window it returns each cohort's newest window, from the lookup
// table cohort_latest (latest.go: one row per cohort, read with argMax by
// version, which BenchmarkLookupLatest measured faster than FINAL on
// 18.16),
// else the row of the window that starts at window, from the targeter's
// view cohort_enrichment_current. Of a republished window it returns the
// newest publish, and only rows of ledgered releases.
//
// 18.16 pushes the WHERE into the view only with
// enable_optimize_predicate_expression = 1 (the dev targeter's profile
// sets it; current releases do by default); without it the view reads
// the whole table. cohort_latest is a table: its primary key serves the
// WHERE whatever the setting.
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
	view, filter, what := EnrichmentView(window), "", "the newest window"
	if !window.IsZero() {
		filter = fmt.Sprintf(" AND window_start = toDateTime(%d)", window.Unix())
		what = "window " + window.UTC().Format(time.RFC3339)
	}
	table := c.table(c.cfg.PublishedDatabase, view)
	q := "SELECT " + viewColumns + " FROM " + table + " WHERE cohort_id IN (" + strings.Join(list, ", ") + ")" + filter + " ORDER BY cohort_id"
	if window.IsZero() {
		q = latestByID(table, strings.Join(list, ", "))
	}
	out, err := c.queryEnrichment(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("reading %s of %d cohorts from %s: %w", what, len(ids), table, err)
	}
	return out, nil
}

// EnrichmentView is what ReadEnrichment reads: the lookup table of each
// cohort's newest window for a zero window, else the view of every
// window.
func EnrichmentView(window time.Time) string {
	if window.IsZero() {
		return "cohort_latest"
	}
	return "cohort_enrichment_current"
}

// FeatureDictionary returns the entries of one feature set, by index.
// Repeats of an entry (the dictionary is written again by every publish
// start) count once.
func (c *Client) FeatureDictionary(ctx context.Context, featureSet uint16) ([]DictionaryEntry, error) {
	q := "SELECT `index`, any(name), any(description), any(unit) FROM " + c.cfg.PublishedDatabase +
		".feature_dictionary WHERE feature_set = " + strconv.Itoa(int(featureSet)) + " GROUP BY `index` ORDER BY `index`"
	out, err := queryRows(ctx, c, func(scan func(...any) error) (DictionaryEntry, error) {
		e := DictionaryEntry{FeatureSet: featureSet}
		return e, scan(&e.Index, &e.Name, &e.Description, &e.Unit)
	}, q)
	if err != nil {
		return nil, fmt.Errorf("reading feature set %d from %s.feature_dictionary: %w", featureSet, c.cfg.PublishedDatabase, err)
	}
	return out, nil
}

// latestByID reads viewColumns of the cohorts ids (a list) from
// cohort_latest (table): of each cohort's rows the one of the highest
// version, exact before merges fold them.
func latestByID(table, ids string) string {
	return `SELECT cohort_id,
    tupleElement(latest, 1), tupleElement(latest, 2), tupleElement(latest, 3), tupleElement(latest, 4), tupleElement(latest, 5),
    tupleElement(latest, 6), tupleElement(latest, 7), tupleElement(latest, 8), tupleElement(latest, 9)
FROM
(
    SELECT cohort_id,
        argMax((window_start, window_end, cohort_key, level, users, features, feature_set, release, published_at), version) AS latest
    FROM ` + table + `
    WHERE cohort_id IN (` + ids + `)
    GROUP BY cohort_id
)
ORDER BY cohort_id`
}
