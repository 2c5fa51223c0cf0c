package clickhouse

import (
	"context"
	"fmt"
	"time"

	"github.com/cohortline/cohortline/schemas"
)

// LastFlush returns the newest complete streaming flush of a topic's
// partition: the window_progress row with the highest flush_version
// (streaming versions grow with the offsets), the latest window on a tie.
// Backfills record their flushes in backfill_progress: they say nothing of
// the live position. ok is false when the partition has never flushed. A
// worker taking the partition over restores its watermark from it. With
// WritePartials it makes the Writer the pipeline's Sink.
//
// In cluster mode a flush reaches one replica of its shard and the other
// fetches it later, so the Distributed table may answer from a replica
// that lacks the newest flush; a worker resuming from an older flush than
// the last would flush a window again from part of its messages (seen
// once in TestClusterFailover: two cohorts of a window differed). So it
// asks each shard on a replica that has caught up: SYSTEM SYNC REPLICA
// first, which returns once the replica holds every part any replica of
// the shard acknowledged; a replica that cannot (down, or its peer down
// with parts it has not fetched) is passed over for the next, and a shard
// none of whose replicas catches up is an error, which the worker retries.
func (w *Writer) LastFlush(ctx context.Context, topic string, partition int) (schemas.Flush, bool, error) {
	c := w.c
	if c.cfg.Cluster == "" {
		f, ok, err := lastFlushIn(ctx, c, c.table(c.cfg.Database, "window_progress"), topic, partition)
		if err != nil {
			return schemas.Flush{}, false, fmt.Errorf("reading the last flush of topic %q partition %d: %w", topic, partition, err)
		}
		return f, ok, nil
	}
	shards, err := c.clusterShards(ctx)
	if err != nil {
		return schemas.Flush{}, false, fmt.Errorf("reading the last flush of topic %q partition %d: %w", topic, partition, err)
	}
	var last schemas.Flush
	found := false
	for _, sh := range shards {
		f, ok, err := c.lastFlushOfShard(ctx, sh, topic, partition)
		if err != nil {
			return schemas.Flush{}, false, fmt.Errorf("reading the last flush of topic %q partition %d: %w", topic, partition, err)
		}
		if ok && (!found || f.Version > last.Version || f.Version == last.Version && f.WindowStart > last.WindowStart) {
			last, found = f, true
		}
	}
	return last, found, nil
}

// lastFlushOfShard reads the newest flush of the partition that shard
// holds, from the first of its replicas that has caught up.
func (c *Client) lastFlushOfShard(ctx context.Context, sh shard, topic string, partition int) (schemas.Flush, bool, error) {
	table := c.cfg.Database + ".window_progress_local"
	rc, err := c.caughtUpReplica(ctx, sh, table)
	if err != nil {
		return schemas.Flush{}, false, err
	}
	return lastFlushIn(ctx, rc, table, topic, partition)
}

// lastFlushIn reads the newest flush of the partition from table.
func lastFlushIn(ctx context.Context, c *Client, table, topic string, partition int) (schemas.Flush, bool, error) {
	q := `SELECT window_start, window_end, flush_version, rows, first_offset, last_offset, watermark
		FROM ` + table + `
		WHERE topic = ? AND partition = ?
		ORDER BY flush_version DESC, window_start DESC
		LIMIT 1`
	flushes, err := queryRows(ctx, c, func(scan func(...any) error) (schemas.Flush, error) {
		f := schemas.Flush{Topic: topic, Partition: partition}
		var n uint64
		var start, end time.Time
		err := scan(&start, &end, &f.Version, &n, &f.FirstOffset, &f.LastOffset, &f.Watermark)
		f.Rows, f.WindowStart, f.WindowEnd = int(n), start.UnixMilli(), end.UnixMilli()
		return f, err
	}, q, topic, int32(partition))
	if err != nil || len(flushes) == 0 {
		return schemas.Flush{}, false, err
	}
	return flushes[0], true, nil
}
