package clickhouse

import (
	"context"
	"fmt"
	"time"
)

// Retention drops whole days: cohort_partials, window_progress and
// cohort_enrichment are partitioned by toDate(window_start), whose
// partition id is the day as YYYYMMDD, and DROP PARTITION is cheap and
// immediate on every release (a DELETE would be a mutation rewriting
// parts). privacy_ledger is an audit record and is kept; so are
// feature_dictionary and schema_migrations.
//
// The three tables lose the same days together, so no reader meets
// partials without their window_progress row or the reverse. Then
// cohort_latest, which has no days (one row per cohort), loses the rows
// of cohorts whose newest window was on a dropped day (dropLatestBefore):
// every window of theirs is gone, so no lookup may find them.

// retentionTables are the daily-partitioned tables, as (database, table)
// via the getters below, in the order they are dropped: progress before
// partials, so that a day half-dropped by a failure reads as missing
// rather than as a flush without its rows.
func (c *Client) retentionTables() [][2]string {
	return [][2]string{
		{c.cfg.Database, "window_progress"},
		{c.cfg.Database, "backfill_progress"},
		{c.cfg.Database, "cohort_partials"},
		{c.cfg.PublishedDatabase, "cohort_enrichment"},
	}
}

// DropPartitionsBefore drops the partitions of days before day (its UTC
// date; windows of day itself are kept) and returns what it dropped, as
// "db.table 20261030", and last, when there were any, the cohorts it
// dropped from cohort_latest, as "db.cohort_latest 12 cohorts" (under
// the publish lease, which it waits for up to DefaultLeaseTTL). Running
// it again drops nothing more, and completes a run that failed half-way.
// In cluster mode it finds the days on every node and drops them ON
// CLUSTER, and cohort_latest's rows shard by shard.
func (c *Client) DropPartitionsBefore(ctx context.Context, day time.Time) ([]string, error) {
	return c.partitionsBefore(ctx, day, true)
}

// PartitionsBefore lists what DropPartitionsBefore would drop, dropping
// nothing (retention's dry run).
func (c *Client) PartitionsBefore(ctx context.Context, day time.Time) ([]string, error) {
	return c.partitionsBefore(ctx, day, false)
}

func (c *Client) partitionsBefore(ctx context.Context, day time.Time, drop bool) ([]string, error) {
	if day.IsZero() {
		return nil, fmt.Errorf("dropping partitions: no day given")
	}
	cutoff := day.UTC().Format("20060102")
	parts := "system.parts"
	if c.cfg.Cluster != "" {
		parts = fmt.Sprintf("cluster('%s', system.parts)", c.cfg.Cluster)
	}
	var dropped []string
	for _, t := range c.retentionTables() {
		db, name := t[0], c.localName(t[1])
		q := fmt.Sprintf(`SELECT DISTINCT partition_id FROM %s
			WHERE database = '%s' AND table = '%s' AND active AND partition_id < '%s'
			ORDER BY partition_id`, parts, db, name, cutoff)
		ids, err := queryValues[string](ctx, c, q)
		if err != nil {
			return dropped, fmt.Errorf("listing partitions of %s.%s before %s: %w", db, name, cutoff, err)
		}
		for _, id := range ids {
			if drop {
				stmt := fmt.Sprintf("ALTER TABLE %s.%s%s DROP PARTITION ID '%s'", db, name, c.onCluster(), id)
				err := retry(ctx, c.cfg.Retry, func(ctx context.Context) error { return c.conn.Exec(ctx, stmt) })
				if err != nil {
					return dropped, fmt.Errorf("dropping partition %s of %s.%s: %w", id, db, name, err)
				}
			}
			dropped = append(dropped, db+"."+name+" "+id)
		}
	}
	n, err := c.dropLatestBefore(ctx, cutoff, drop)
	if n > 0 {
		dropped = append(dropped, fmt.Sprintf("%s.cohort_latest %d cohorts", c.cfg.PublishedDatabase, n))
	}
	if err != nil {
		return dropped, fmt.Errorf("dropping the rows of %s.cohort_latest whose newest window is before %s: %w", c.cfg.PublishedDatabase, cutoff, err)
	}
	return dropped, nil
}
