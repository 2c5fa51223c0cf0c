package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"
)

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
// In cluster mode cohort_enrichment is a Distributed table over
// cohort_enrichment_local, sharded by cohort_id, and the day lives in one
// partition per shard: each shard's day is rebuilt and swapped as above,
// on one replica of the shard (its peer fetches the swap from the
// replication log), after SYSTEM SYNC REPLICA so that the copy of the
// other windows holds every row the shard acknowledged. All shards are
// staged before the first swap, and the swaps follow each other (a fence
// check before each), so that readers of the Distributed table see a mix
// of the old and the new cohort set for one window only for the moments
// between two ALTERs. Each cohort lives on one shard, so a reader still
// sees each cohort's row whole, of the old release or of the new one;
// both are in the privacy ledger, and a mix shows nothing that reading
// the two releases one after the other does not. A failure between two
// swaps leaves the window mixed, and the error says to publish it again.
func (c *Client) ReplaceEnrichmentWindow(ctx context.Context, windowStart, windowEnd time.Time, rows []EnrichmentRow, fence Fence) (err error) {
	what := fmt.Sprintf("replacing window %s of %s.cohort_enrichment with %d rows",
		windowStart.UTC().Format(time.RFC3339), c.cfg.PublishedDatabase, len(rows))
	if err := checkWindowRows(windowStart, windowEnd, rows); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	days, err := c.dayReplaces(ctx, windowStart, rows)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer func() {
		cleanup, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		for _, d := range days {
			if derr := d.close(cleanup); derr != nil {
				err = errors.Join(err, fmt.Errorf("%s: %w", what, derr))
			}
		}
	}()
	for _, d := range days {
		if err := d.stage(ctx); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
	}
	for i, d := range days {
		mixed := ""
		if i > 0 {
			mixed = fmt.Sprintf("; %d of %d shards hold the new rows already, the others the old: publish the window again", i, len(days))
		}
		if fence != nil {
			if err := fence.Check(ctx); err != nil {
				return fmt.Errorf("%s: stopped before swapping the day in%s: %w", what, mixed, err)
			}
		}
		if err := d.c.exec(ctx, d.swap); err != nil {
			return fmt.Errorf("%s: swapping the day in from %s%s%s: %w", what, d.staging, d.where, mixed, err)
		}
	}
	if fence != nil {
		if err := fence.Check(ctx); err != nil {
			return fmt.Errorf("%s: swapped the day in, but the publish lease was lost meanwhile, so another publisher may have written windows of %s that the swap dropped: republish that day: %w",
				what, windowStart.UTC().Format(time.DateOnly), err)
		}
	}
	return nil
}

// dayReplace rebuilds the day of one window in one table that holds its
// parts: cohort_enrichment on a single server, a shard's
// cohort_enrichment_local in cluster mode.
type dayReplace struct {
	c          *Client // single-server: the client itself, or a shard's own
	own        bool    // c is a shard's client, closed with the replace
	replicated bool    // the target is a replica: sync it before the copy
	where      string  // "" or " on shard 2 (127.0.0.1:19103,…)", for errors
	target     string
	staging    string
	engine     string // "" (AS target) or the ENGINE clause of a staging table beside a replica
	w          string // window_start, epoch seconds
	rows       []EnrichmentRow
	swap       string // set by stage
}

// stagingEngine is cohort_enrichment's engine, partition and order
// (schemas/ddl/0004) without replication, for a staging table beside a
// replicated target: one created AS the target would register as another
// replica of it. REPLACE PARTITION refuses a table of other columns,
// partition key or order, so a migration that changes them and not this
// fails loud.
const stagingEngine = " ENGINE = ReplacingMergeTree(published_at) PARTITION BY toDate(window_start) ORDER BY (cohort_id, window_start)"

// dayReplaces plans the replace: one dayReplace on a single server, one
// per shard in cluster mode, with the rows of the cohorts that shard
// holds.
func (c *Client) dayReplaces(ctx context.Context, windowStart time.Time, rows []EnrichmentRow) ([]*dayReplace, error) {
	w := strconv.FormatInt(windowStart.Unix(), 10)
	name := fmt.Sprintf("cohort_enrichment_replace_%s_%016x", windowStart.UTC().Format("20060102"), rand.Uint64())
	staging := c.table(c.cfg.PublishedDatabase, name)
	if c.cfg.Cluster == "" {
		return []*dayReplace{{c: c, target: c.table(c.cfg.PublishedDatabase, "cohort_enrichment"), staging: staging, w: w, rows: rows}}, nil
	}
	shards, err := c.clusterShards(ctx)
	if err != nil {
		return nil, err
	}
	byShard := shardRows(shards, rows)
	days := make([]*dayReplace, 0, len(shards))
	for i, sh := range shards {
		sc, where, err := c.shardClient(sh)
		if err != nil {
			for _, d := range days {
				d.c.Close()
			}
			return nil, err
		}
		days = append(days, &dayReplace{
			c: sc, own: true, replicated: true, where: where,
			target: c.table(c.cfg.PublishedDatabase, "cohort_enrichment_local"), staging: staging,
			engine: stagingEngine, w: w, rows: byShard[i],
		})
	}
	return days, nil
}

// stage fills the staging table with the day's other windows and the new
// rows, and sets the statement that swaps it in.
func (d *dayReplace) stage(ctx context.Context) error {
	create := "CREATE TABLE IF NOT EXISTS " + d.staging + " AS " + d.target + d.engine
	if err := d.c.exec(ctx, create); err != nil {
		return fmt.Errorf("creating %s%s: %w", d.staging, d.where, err)
	}
	if d.replicated {
		// The replica must hold every part its shard acknowledged before
		// the copy, or the swap would drop rows it had yet to fetch.
		if err := d.c.syncReplica(ctx, d.c, d.target); err != nil {
			return fmt.Errorf("%s: %w", d.where[1:], err)
		}
	}
	// SELECT *: staging is created AS the target, so the two have the same
	// columns in the same order, including any a later migration adds.
	copyDay := "INSERT INTO " + d.staging + " SELECT * FROM " + d.target +
		" WHERE toDate(window_start) = toDate(toDateTime(" + d.w + ")) AND window_start != toDateTime(" + d.w + ")"
	cols := enrichmentColumnsOf(d.rows)
	err := retry(ctx, d.c.cfg.Retry, func(ctx context.Context) error {
		if err := d.c.conn.Exec(ctx, "TRUNCATE TABLE "+d.staging); err != nil {
			return err
		}
		if err := d.c.conn.Exec(ctx, copyDay); err != nil {
			return fmt.Errorf("copying the day's other windows: %w", err)
		}
		if len(d.rows) == 0 {
			return nil
		}
		return d.c.sendEnrichment(ctx, d.staging, cols)
	})
	if err != nil {
		return fmt.Errorf("filling %s%s: %w", d.staging, d.where, err)
	}
	// The partition as the key computes it, in the server's time zone,
	// written as a tuple: current releases take a bare function call
	// there for a syntax error (Code 62, ClickHouse issue #11472), 18.16
	// and they both take tuple(…). (On 18.16 PARTITION ID 'YYYYMMDD' works
	// too, but a bare YYYYMMDD number is taken for another partition and
	// silently replaces nothing.)
	partition := "tuple(toDate(toDateTime(" + d.w + ")))"
	d.swap = "ALTER TABLE " + d.target + " REPLACE PARTITION " + partition + " FROM " + d.staging
	// An empty staging table empties the day: current releases refuse to
	// REPLACE from it (Code 36) unless allow_replace_partition_from_empty_source,
	// a setting 18.16 does not know, so the day is dropped instead, which
	// is as atomic for readers and the same on every release.
	staged, err := queryValues[uint64](ctx, d.c, "SELECT count() FROM "+d.staging)
	if err != nil {
		return fmt.Errorf("counting the rows of %s%s: %w", d.staging, d.where, err)
	}
	if len(staged) == 1 && staged[0] == 0 {
		d.swap = "ALTER TABLE " + d.target + " DROP PARTITION " + partition
	}
	return nil
}

// close drops the staging table, also after a failure and after ctx
// ends, and closes a shard's client.
func (d *dayReplace) close(ctx context.Context) error {
	err := d.c.exec(ctx, "DROP TABLE IF EXISTS "+d.staging)
	if err != nil {
		err = fmt.Errorf("dropping %s%s: %w", d.staging, d.where, err)
	}
	if d.own {
		d.c.Close()
	}
	return err
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
