package clickhouse

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
)

// shard is one shard of the cluster as remote_servers defines it.
type shard struct {
	num      uint32
	weight   uint32
	replicas []string // host:port of its replicas' native ports, in replica order
}

// clusterShards reads the shards of the configured cluster from
// system.clusters, in shard order: the order in which a Distributed table
// hands out the remainders of its sharding key.
func (c *Client) clusterShards(ctx context.Context) ([]shard, error) {
	type replica struct {
		Shard, Weight uint32
		Host          string
		Port          uint16
	}
	q := "SELECT shard_num, shard_weight, host_address, port FROM system.clusters WHERE cluster = ? ORDER BY shard_num, replica_num"
	rows, err := queryRows(ctx, c, func(scan func(...any) error) (replica, error) {
		var r replica
		err := scan(&r.Shard, &r.Weight, &r.Host, &r.Port)
		return r, err
	}, q, c.cfg.Cluster)
	if err != nil {
		return nil, fmt.Errorf("reading the shards of cluster %q from system.clusters: %w", c.cfg.Cluster, err)
	}
	var shards []shard
	for _, r := range rows {
		if len(shards) == 0 || shards[len(shards)-1].num != r.Shard {
			shards = append(shards, shard{num: r.Shard, weight: r.Weight})
		}
		last := &shards[len(shards)-1]
		last.replicas = append(last.replicas, net.JoinHostPort(r.Host, strconv.Itoa(int(r.Port))))
	}
	if len(shards) == 0 {
		return nil, fmt.Errorf("cluster %q: system.clusters of %s does not know it (remote_servers)", c.cfg.Cluster, c.addrs())
	}
	return shards, nil
}

// shardClient opens a client of one shard's replicas, outside cluster
// mode, for statements on the shard's own _local tables; where names the
// shard for errors (" on shard 2 (127.0.0.1:19103,…)").
func (c *Client) shardClient(sh shard) (sc *Client, where string, err error) {
	cfg := c.cfg
	cfg.Cluster, cfg.Addr = "", sh.replicas
	if sc, err = open(cfg); err != nil {
		return nil, "", fmt.Errorf("shard %d: %w", sh.num, err)
	}
	return sc, fmt.Sprintf(" on shard %d (%s)", sh.num, strings.Join(sh.replicas, ",")), nil
}

// shardRows splits rows by the shard that holds their cohort, as the
// Distributed table does with its sharding key cohort_id (DDL 0004): the
// remainder of cohort_id by the sum of the weights picks the shard whose
// share of the remainders, in shard order, holds it.
func shardRows(shards []shard, rows []EnrichmentRow) [][]EnrichmentRow {
	var total uint64
	for _, s := range shards {
		total += uint64(s.weight)
	}
	out := make([][]EnrichmentRow, len(shards))
	for _, r := range rows {
		i := shardOf(shards, total, r.CohortID)
		out[i] = append(out[i], r)
	}
	return out
}

// shardOf is the index in shards of the shard that holds key.
func shardOf(shards []shard, total, key uint64) int {
	if total == 0 {
		return 0 // no weights: ClickHouse refuses such a cluster; keep everything in one place
	}
	slot := key % total
	for i, s := range shards {
		if slot < uint64(s.weight) {
			return i
		}
		slot -= uint64(s.weight)
	}
	return len(shards) - 1
}

// Reading a replicated table in cluster mode: an insert is acknowledged
// once one replica of its shard holds it, and the other fetches it a
// moment later, so a read through a Distributed table, which picks a
// replica per shard, may miss the newest rows (measured on the dev
// cluster: 20 of 20 reads met a replica kept lagging,
// TestLastFlushOnClusterSkipsALaggingReplica). What must see every
// acknowledged row first makes the replicas catch up: SYSTEM SYNC
// REPLICA returns once a replica holds every part any replica of its
// shard acknowledged.

// defaultReplicaWait bounds the wait for one replica to catch up; a
// replica that cannot (its peer down with parts it has not fetched yet)
// is passed over, or reported, after it.
const defaultReplicaWait = 10 * time.Second

// syncReplica runs SYSTEM SYNC REPLICA table on rc's server, waiting at
// most c.replicaWait. The server does not stop the wait on a cancel;
// receive_timeout bounds it on the server, where the release honours it.
func (c *Client) syncReplica(ctx context.Context, rc *Client, table string) error {
	wait := cmp.Or(c.replicaWait, defaultReplicaWait)
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	ctx = ch.Context(ctx, ch.WithSettings(ch.Settings{"receive_timeout": int(max(wait/time.Second, 1))}))
	if err := rc.conn.Exec(ctx, "SYSTEM SYNC REPLICA "+table); err != nil {
		return fmt.Errorf("%s did not catch up with its replicas within %s: %w", table, wait, err)
	}
	return nil
}

// caughtUpReplica returns a client of the first of replicas (one shard's)
// that has caught up on table, trying the next when one cannot.
func (c *Client) caughtUpReplica(ctx context.Context, sh shard, table string) (*Client, error) {
	var errs []error
	for _, addr := range sh.replicas {
		rc, err := c.replicaClient(addr)
		if err == nil {
			err = c.syncReplica(ctx, rc, table)
		}
		if err == nil {
			return rc, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		errs = append(errs, fmt.Errorf("%s: %w", addr, err))
	}
	return nil, fmt.Errorf("no replica of shard %d caught up: %w", sh.num, errors.Join(errs...))
}

// syncEveryReplica makes every replica that answers catch up on tables,
// so that a read through the Distributed tables right after sees every
// acknowledged row, whichever replicas it picks. A replica that does not
// answer is left out (a Distributed read passes it over too); a shard
// none of whose replicas answers, or a replica that answers and cannot
// catch up, is an error.
func (c *Client) syncEveryReplica(ctx context.Context, tables ...string) error {
	shards, err := c.clusterShards(ctx)
	if err != nil {
		return err
	}
	for _, sh := range shards {
		var down []error
		for _, addr := range sh.replicas {
			rc, err := c.replicaClient(addr)
			if err == nil {
				err = rc.conn.Ping(ctx)
			}
			if err != nil {
				down = append(down, fmt.Errorf("%s: %w", addr, err))
				continue
			}
			for _, table := range tables {
				if err := c.syncReplica(ctx, rc, table); err != nil {
					return fmt.Errorf("replica %s of shard %d: %w", addr, sh.num, err)
				}
			}
		}
		if len(down) == len(sh.replicas) {
			return fmt.Errorf("no replica of shard %d answers: %w", sh.num, errors.Join(down...))
		}
	}
	return nil
}
