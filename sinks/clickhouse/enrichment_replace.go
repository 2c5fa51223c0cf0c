package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"
)

// ErrReplaceOnCluster is returned by ReplaceEnrichmentWindow in cluster
// mode, which it does not support yet.
var ErrReplaceOnCluster = errors.New("replacing a window's cohort set is not supported in cluster mode yet")

// PublishedCohorts returns the ids of the cohorts that readers see for the
// window that starts at windowStart, ascending: every cohort with a row of
// that window in cohort_enrichment. Rows of older publishes that merges
// have not folded yet name the same cohorts as the newest (a republish
// that drops a cohort goes through ReplaceEnrichmentWindow, which rewrites
// the window's day), so DISTINCT is exact without FINAL.
func (c *Client) PublishedCohorts(ctx context.Context, windowStart time.Time) ([]uint64, error) {
	table := c.table(c.cfg.PublishedDatabase, "cohort_enrichment")
	q := fmt.Sprintf("SELECT DISTINCT cohort_id FROM %s WHERE window_start = toDateTime(%d) ORDER BY cohort_id", table, windowStart.Unix())
	ids, err := queryValues[uint64](ctx, c, q)
	if err != nil {
		return nil, fmt.Errorf("reading the cohorts of window %s from %s: %w", windowStart.UTC().Format(time.RFC3339), table, err)
	}
	return ids, nil
}

// Fence is checked right before a write that readers see, and fails
// once the writer may no longer publish: a *Lease is one.
type Fence interface {
	Check(ctx context.Context) error
}

// ReplaceEnrichmentWindow makes readers see exactly rows for the window
// [windowStart, windowEnd) of cohort_enrichment: cohorts that rows lack
// disappear from the window (none at all when rows is empty), every other
// window keeps its rows as they are, and no reader sees a half-replaced
// window. WriteEnrichment is enough when no cohort goes away.
//
// cohort_enrichment is partitioned by day, toDate(window_start) in the
// server's time zone, and ClickHouse 18.16 has no transactions and no
// lightweight DELETE; so the day is rebuilt in a staging table, created
// AS cohort_enrichment in the published database (the same columns,
// engine and partition key) under a unique name, then swapped in whole:
//
//  1. copy the day's rows of every other window into staging, all of
//     them and without FINAL, so that those windows read afterwards as
//     before, to every reader (argMax, FINAL or raw), and merges fold
//     the repeats later as they would have anyway (current releases fold
//     them in the copy already, optimize_on_insert: a raw reader then
//     sees fewer rows, the newest of each cohort, as after a merge);
//  2. insert rows into staging;
//  3. check fence (when not nil): the publish lease must still be the
//     caller's;
//  4. ALTER TABLE cohort_enrichment REPLACE PARTITION tuple(toDate(toDateTime(W)))
//     FROM staging: atomic for readers, who see the old day or the new
//     (DROP PARTITION when staging is empty: the new day has no rows);
//  5. check fence again: if the lease was lost meanwhile, say so;
//  6. drop staging, also after a failure and after ctx ends.
//
// Steps 1 and 2 are retried together, after emptying staging, and step 4
// is idempotent, so a retry never leaves a row twice. The same statements
// run on 18.16 and on current releases (TestChDB runs them on 26.x).
//
// It assumes a single publisher: a write to another window of the same
// day between steps 1 and 4 (another publisher, or two replaces of one day
// at once) is lost, overwritten by the copy taken before it. The publish
// lease makes the publisher single (lease.go); fence is its check, right
// before the swap, so that a publisher whose lease was taken over stops
// there; only one that stalls between step 3 and the swap for a quarter
// of the lease TTL can still swap over another's rows, and step 5 then
// reports it. A process
// killed mid-way leaves a staging table behind, named
// cohort_enrichment_replace_<day>_<random>, holding published rows only;
// it can be dropped.
//
// In cluster mode it returns ErrReplaceOnCluster and changes nothing: the
// day lives in one partition per shard, which one REPLACE PARTITION
// cannot swap atomically across shards.
func (c *Client) ReplaceEnrichmentWindow(ctx context.Context, windowStart, windowEnd time.Time, rows []EnrichmentRow, fence Fence) (err error) {
	what := fmt.Sprintf("replacing window %s of %s.cohort_enrichment with %d rows",
		windowStart.UTC().Format(time.RFC3339), c.cfg.PublishedDatabase, len(rows))
	if c.cfg.Cluster != "" {
		return fmt.Errorf("%s: %w (cluster %q)", what, ErrReplaceOnCluster, c.cfg.Cluster)
	}
	if err := checkWindowRows(windowStart, windowEnd, rows); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	target := c.table(c.cfg.PublishedDatabase, "cohort_enrichment")
	staging := c.table(c.cfg.PublishedDatabase, fmt.Sprintf("cohort_enrichment_replace_%s_%016x",
		windowStart.UTC().Format("20060102"), rand.Uint64()))
	w := strconv.FormatInt(windowStart.Unix(), 10)

	create := "CREATE TABLE IF NOT EXISTS " + staging + " AS " + target
	if err := c.exec(ctx, create); err != nil {
		return fmt.Errorf("%s: creating %s: %w", what, staging, err)
	}
	defer func() {
		cleanup, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if derr := c.exec(cleanup, "DROP TABLE IF EXISTS "+staging); derr != nil {
			err = errors.Join(err, fmt.Errorf("%s: dropping %s: %w", what, staging, derr))
		}
	}()

	// SELECT *: staging is created AS the target, so the two have the same
	// columns in the same order, including any a later migration adds.
	copyDay := "INSERT INTO " + staging + " SELECT * FROM " + target +
		" WHERE toDate(window_start) = toDate(toDateTime(" + w + ")) AND window_start != toDateTime(" + w + ")"
	cols := enrichmentColumnsOf(rows)
	err = retry(ctx, c.cfg.Retry, func(ctx context.Context) error {
		if err := c.conn.Exec(ctx, "TRUNCATE TABLE "+staging); err != nil {
			return err
		}
		if err := c.conn.Exec(ctx, copyDay); err != nil {
			return fmt.Errorf("copying the day's other windows: %w", err)
		}
		if len(rows) == 0 {
			return nil
		}
		return c.sendEnrichment(ctx, staging, cols)
	})
	if err != nil {
		return fmt.Errorf("%s: filling %s: %w", what, staging, err)
	}
	// The partition as the key computes it, in the server's time zone,
	// written as a tuple: current releases take a bare function call
	// there for a syntax error (Code 62, ClickHouse issue #11472), 18.16
	// and they both take tuple(…). (On 18.16 PARTITION ID 'YYYYMMDD' works
	// too, but a bare YYYYMMDD number is taken for another partition and
	// silently replaces nothing.)
	partition := "tuple(toDate(toDateTime(" + w + ")))"
	swap := "ALTER TABLE " + target + " REPLACE PARTITION " + partition + " FROM " + staging
	// An empty staging table empties the day: current releases refuse to
	// REPLACE from it (Code 36) unless allow_replace_partition_from_empty_source,
	// a setting 18.16 does not know, so the day is dropped instead, which
	// is as atomic for readers and the same on every release.
	staged, err := queryValues[uint64](ctx, c, "SELECT count() FROM "+staging)
	if err != nil {
		return fmt.Errorf("%s: counting the rows of %s: %w", what, staging, err)
	}
	if len(staged) == 1 && staged[0] == 0 {
		swap = "ALTER TABLE " + target + " DROP PARTITION " + partition
	}
	if fence != nil {
		if err := fence.Check(ctx); err != nil {
			return fmt.Errorf("%s: stopped before swapping the day in: %w", what, err)
		}
	}
	if err := c.exec(ctx, swap); err != nil {
		return fmt.Errorf("%s: swapping the day in from %s: %w", what, staging, err)
	}
	if fence != nil {
		if err := fence.Check(ctx); err != nil {
			return fmt.Errorf("%s: swapped the day in, but the publish lease was lost meanwhile, so another publisher may have written windows of %s that the swap dropped: republish that day: %w",
				what, windowStart.UTC().Format(time.DateOnly), err)
		}
	}
	return nil
}

// checkWindowRows checks the window and that every row belongs to it: a
// row of another window would land in staging and either be dropped with
// it (another day) or replace that window's rows (the same day).
func checkWindowRows(windowStart, windowEnd time.Time, rows []EnrichmentRow) error {
	probe := EnrichmentRow{WindowStart: windowStart, WindowEnd: windowEnd, CohortKey: "-"}
	if err := probe.check(); err != nil {
		return err
	}
	if err := checkEnrichment(rows); err != nil {
		return err
	}
	for i, r := range rows {
		if !r.WindowStart.Equal(windowStart) || !r.WindowEnd.Equal(windowEnd) {
			return fmt.Errorf("row %d (cohort %q) is of window [%s, %s), not of the window replaced", i, r.CohortKey,
				r.WindowStart.UTC().Format(time.RFC3339), r.WindowEnd.UTC().Format(time.RFC3339))
		}
	}
	return nil
}
