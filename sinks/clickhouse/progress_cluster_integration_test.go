package clickhouse

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cohortline/cohortline/cohorts"
	"github.com/cohortline/cohortline/deploy/devenv"
)

// TestLastFlushOnClusterSkipsALaggingReplica makes one replica of shard 1
// lag for certain: fetches stopped on it, it holds only the older of two
// flushes of a partition, while its peer holds the newer and fetches the
// older. Through the Distributed table a resume would read the lagging
// replica about half the time (the setup checks it does at least once);
// LastFlush waits for the first replica to catch up, gives up on it after
// Client.replicaWait, and answers from its peer: always the newer flush.
// With fetches stopped on both, no replica catches up, and LastFlush says
// so rather than answer. Publish's read of the partials (PublishStore.
// Partials) refuses while a replica that answers cannot catch up, and
// reads once it can.
func TestLastFlushOnClusterSkipsALaggingReplica(t *testing.T) {
	nodes, cluster := devenv.ClickHouseCluster(t)
	cfg := testConfig(t)
	cfg.Addr, cfg.Cluster = nodes, cluster
	c := migratedClient(t, cfg)
	c.replicaWait = 2 * time.Second
	ctx := t.Context()
	shards, err := c.clusterShards(ctx)
	if err != nil {
		t.Fatal(err)
	}
	lagging, peer := nodeClient(t, shards[0].replicas[0]), nodeClient(t, shards[0].replicas[1])
	local := cfg.Database + ".window_progress_local"
	fetches := func(n *Client, verb string) {
		t.Helper()
		if err := n.exec(context.WithoutCancel(ctx), "SYSTEM "+verb+" FETCHES "+local); err != nil { // also at cleanup
			t.Fatal(err)
		}
	}
	fetches(lagging, "STOP")
	fetches(peer, "STOP")
	t.Cleanup(func() { fetches(lagging, "START"); fetches(peer, "START") })
	const topic, partition = "activity", 3
	insert := func(n *Client, version uint64, ws time.Time) {
		t.Helper()
		// INSERT … SELECT: 18.16 waits for a data block after inline VALUES
		// sent by clickhouse-go.
		stmt := fmt.Sprintf("INSERT INTO %s (window_start, window_end, topic, partition, flush_version, rows, first_offset, last_offset, watermark, flushed_at) "+
			"SELECT toDateTime(%d), toDateTime(%d), '%s', %d, %d, 1, 0, %d, %d, now()",
			local, ws.Unix(), ws.Add(time.Hour).Unix(), topic, partition, version, version-1, ws.Add(time.Hour).UnixMilli())
		if err := n.exec(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	insert(lagging, 100, window)             // the older flush
	insert(peer, 200, window.Add(time.Hour)) // the newer, which the lagging replica will not fetch

	if _, _, err := c.Writer().LastFlush(ctx, topic, partition); err == nil || !strings.Contains(err.Error(), "no replica of shard") {
		t.Errorf("LastFlush with no replica of shard 1 able to catch up = %v, want an error saying so", err)
	}

	fetches(peer, "START")
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if n := queryUint64(t, peer, "SELECT count() FROM "+local); n == 2 {
			break // the peer has fetched the older flush
		} else if time.Now().After(deadline) {
			t.Fatalf("setup: the peer holds %d flushes 60s after its fetches started, want 2", n)
		}
	}
	stale := 0
	for range 20 {
		var v uint64
		if err := c.conn.QueryRow(ctx, "SELECT max(flush_version) FROM "+cfg.Database+".window_progress WHERE topic = ? AND partition = ?", topic, int32(partition)).Scan(&v); err != nil {
			t.Fatal(err)
		}
		if v == 100 {
			stale++
		}
	}
	if stale == 0 {
		t.Fatal("setup: 20 reads through the Distributed table never met the lagging replica")
	}
	began := time.Now()
	f, ok, err := c.Writer().LastFlush(ctx, topic, partition)
	if err != nil || !ok || f.Version != 200 {
		t.Fatalf("LastFlush = %+v, %v, %v; want version 200 (the Distributed table gave the stale 100 in %d of 20 reads)", f, ok, err, stale)
	}
	t.Logf("LastFlush passed over the lagging replica in %.1fs; the Distributed table read it in %d of 20 reads", time.Since(began).Seconds(), stale)

	// Publishing reads through the Distributed tables, after every
	// replica that answers has caught up: one that answers and cannot is
	// an error, not a release of part of a window.
	store := c.PublishStore(LeaseConfig{Holder: "test"})
	spec := cohorts.DefaultSpec()
	if _, err := store.Partials(ctx, spec, window, window.Add(2*time.Hour)); err == nil || !strings.Contains(err.Error(), "did not catch up") {
		t.Errorf("Partials with a replica that cannot catch up = %v, want an error saying so", err)
	}
	fetches(lagging, "START")
	var err2 error
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(time.Second) {
		if _, err2 = store.Partials(ctx, spec, window, window.Add(2*time.Hour)); err2 == nil {
			break
		}
	}
	if err2 != nil {
		t.Errorf("Partials once every replica can catch up: %v", err2)
	}
}
