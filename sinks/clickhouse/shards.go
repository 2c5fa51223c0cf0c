package clickhouse

import (
	"context"
	"fmt"
	"net"
	"strconv"
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
