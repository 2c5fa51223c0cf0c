package clickhouse

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// cohort_latest (DDL 0015) is the targeter's lookup table: per cohort its
// newest window, of that window its newest publish, of ledgered releases
// only, which is what cohort_enrichment_latest computes over the whole of
// cohort_enrichment at every query. It is derivable from cohort_enrichment
// and published_releases at any time, and kept so:
//
//   - publish writes a window's rows to cohort_enrichment, then the same
//     rows here (WriteLatest, an upsert by version: window_start, then
//     published_at, so an older window's republish never displaces a
//     newer one, and writing twice is harmless);
//   - a republish that dropped cohorts from the window (a replace: merged
//     upward, suppressed, or the whole window emptied by a backfill) then
//     runs SyncLatest: a cohort whose newest row here is of that window
//     but no longer in cohort_enrichment gets its newest remaining window
//     derived from cohort_enrichment, or no row; as versions only grow,
//     that means rebuilding the table beside it and swapping it in whole
//     (latest_rebuild.go);
//   - retention drops the rows of cohorts whose newest window is on a
//     dropped day (every window of theirs was dropped);
//   - a crash between the cohort_enrichment write and this one leaves the
//     newest release unapplied here: publish stops at its first failure,
//     so only the newest releases in published_releases can be, and every
//     publish session starts with RepairLatest, which checks them against
//     cohort_enrichment and applies what is missing.
//
// Nothing here comes from anywhere but a release's own rows (written
// after its ledger row and its published_releases row) or
// cohort_enrichment read through published_releases, so it never holds a
// row below k nor one of a release the ledger did not book.

// latestColumns are cohort_latest's columns in the order WriteLatest and
// the derivations write them.
const latestColumns = "cohort_id, window_start, window_end, cohort_key, level, users, features, feature_set, release, published_at, version"

// latestVersion is the version of a row of window windowStart published at
// publishedAt: window_start * 2^32 + published_at, both in seconds (DDL
// 0015), so that the newest window wins and, of one window, the newest
// publish.
func latestVersion(windowStart, publishedAt time.Time) uint64 {
	return uint64(windowStart.Unix())<<32 | uint64(publishedAt.Unix())
}

// latestVersionSQL computes latestVersion from the columns a and b.
func latestVersionSQL(windowStart, publishedAt string) string {
	return "toUInt64(" + windowStart + ") * 4294967296 + toUInt64(" + publishedAt + ")"
}

// WriteLatest upserts rows, just written to cohort_enrichment by a
// publish, into cohort_latest, retrying retryable errors. A row whose
// cohort has a newer window there already is kept too and loses to it
// (the version), so rows of any window may be given; writing them again
// is harmless.
func (c *Client) WriteLatest(ctx context.Context, rows []EnrichmentRow) error {
	if len(rows) == 0 {
		return nil
	}
	if err := checkEnrichment(rows); err != nil {
		return fmt.Errorf("writing the lookup table: %w", err)
	}
	table := c.table(c.cfg.PublishedDatabase, "cohort_latest")
	cols := enrichmentColumnsOf(rows)
	byName := map[string]any{}
	for i, name := range enrichmentColumns {
		byName[name] = cols[i]
	}
	versions := make([]uint64, len(rows))
	for i, r := range rows {
		versions[i] = latestVersion(r.WindowStart, r.PublishedAt)
	}
	byName["version"] = versions
	names := strings.Split(latestColumns, ", ")
	err := retry(ctx, c.cfg.Retry, func(ctx context.Context) error {
		batch, err := c.conn.PrepareBatch(ctx, "INSERT INTO "+table+" ("+latestColumns+")")
		if err != nil {
			return err
		}
		defer batch.Close()
		for i, name := range names {
			if err := batch.Column(i).Append(byName[name]); err != nil {
				return fmt.Errorf("appending column %s: %w", name, err)
			}
		}
		return batch.Send()
	})
	if err != nil {
		return fmt.Errorf("writing %d rows to the lookup table %s: %w", len(rows), table, err)
	}
	return nil
}

// SyncLatest makes cohort_latest agree with cohort_enrichment on the
// window that starts at windowStart, whose newest publish is of
// publishedAt: every row of that publish that has no row as new in
// cohort_latest is copied there, and every cohort whose newest row in
// cohort_latest is of that window but gone from cohort_enrichment (a
// republish dropped it) gets its newest window again from
// cohort_enrichment, or no row, through a rebuild swapped in whole. It
// returns how many cohorts it fixed. In cluster mode it does so shard by
// shard, on a replica that has caught up with its peers. fence, when not
// nil, is checked before each swap.
func (c *Client) SyncLatest(ctx context.Context, windowStart, publishedAt time.Time, fence Fence) (int, error) {
	w := strconv.FormatInt(windowStart.Unix(), 10)
	what := fmt.Sprintf("bringing %s.cohort_latest in line with window %s", c.cfg.PublishedDatabase, windowStart.UTC().Format(time.RFC3339))
	shards, err := c.latestShards(ctx)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", what, err)
	}
	defer closeLatestShards(shards)
	fixed := 0
	for _, s := range shards {
		if err := s.catchUp(ctx); err != nil {
			return fixed, fmt.Errorf("%s: %w", what, err)
		}
		n, err := s.fillMissing(ctx, w, strconv.FormatInt(publishedAt.Unix(), 10), latestVersion(windowStart, publishedAt))
		fixed += n
		if err != nil {
			return fixed, fmt.Errorf("%s: %w", what, err)
		}
		stale := "SELECT cohort_id FROM (SELECT cohort_id, argMax(window_start, version) AS newest_window, argMax(published_at, version) AS newest_publish FROM " +
			s.latest + " GROUP BY cohort_id) WHERE newest_window = toDateTime(" + w + ") AND (cohort_id, newest_publish) NOT IN (SELECT cohort_id, published_at FROM " +
			s.enrichment + " WHERE window_start = toDateTime(" + w + "))"
		n, err = s.rebuild(ctx, stale, fence)
		fixed += n
		if err != nil {
			return fixed, fmt.Errorf("%s: %w", what, err)
		}
	}
	return fixed, nil
}

// RepairLatest applies to cohort_latest what a crash may have left out:
// the newest releases in published_releases, those of its latest publish
// time (publish stops at its first failure, so no older one can be
// missing, as long as a publisher's clock does not run behind its
// predecessor's; a range publishes several windows within one second),
// through SyncLatest. A publish session runs it first, under the lease
// (fence). It returns how many cohorts it fixed; 0 when there was
// nothing to do, the common case: then it costs two counts per release.
func (c *Client) RepairLatest(ctx context.Context, fence Fence) (int, error) {
	table := c.table(c.cfg.PublishedDatabase, "published_releases")
	q := "SELECT DISTINCT window_start, published_at FROM " + table +
		" WHERE published_at = (SELECT max(published_at) FROM " + table + ") ORDER BY window_start"
	type newest struct{ window, published time.Time }
	rows, err := queryRows(ctx, c, func(scan func(...any) error) (newest, error) {
		var n newest
		return n, scan(&n.window, &n.published)
	}, q)
	if err != nil {
		return 0, fmt.Errorf("finding the newest releases in %s: %w", table, err)
	}
	fixed := 0
	for _, r := range rows {
		n, err := c.SyncLatest(ctx, r.window, r.published, fence)
		fixed += n
		if err != nil {
			return fixed, err
		}
	}
	return fixed, nil
}

// latestDerived is a SELECT of latestColumns: for each cohort of the
// subquery cohorts, its newest window of a ledgered release in enrichment
// (a table holding cohort_enrichment's rows), of that window its newest
// publish, as cohort_enrichment_latest computes it (DDL 0012).
func latestDerived(enrichment, releases, cohorts string) string {
	return `SELECT cohort_id,
    tupleElement(latest, 1), tupleElement(latest, 2), tupleElement(latest, 3), tupleElement(latest, 4), tupleElement(latest, 5),
    tupleElement(latest, 6), tupleElement(latest, 7), tupleElement(latest, 8), tupleElement(latest, 9),
    ` + latestVersionSQL("tupleElement(latest, 1)", "tupleElement(latest, 9)") + `
FROM
(
    SELECT cohort_id,
        argMax((window_start, window_end, cohort_key, level, users, features, feature_set, release, published_at), (window_start, published_at)) AS latest
    FROM ` + enrichment + `
    WHERE cohort_id IN (` + cohorts + `)
      AND (window_start, release, published_at) IN (SELECT window_start, release, published_at FROM ` + releases + `)
    GROUP BY cohort_id
)`
}
