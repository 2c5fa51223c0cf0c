package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/cohortline/cohortline/deploy/devenv"
	"github.com/cohortline/cohortline/schemas/synth"
	"github.com/cohortline/cohortline/sinks/clickhouse"
)

// clusterPartitions is the topic size of the cluster tests: four
// partitions for each of three instances.
const clusterPartitions = 12

// clusterIdle is the cluster tests' kafka.idle_timeout. Three instances
// joining and leaving over 12 partitions under -race can leave a worker
// without messages for more than the fault tests' 2s mid-data, and an
// idle close then makes the rest of its window late, unlike the
// reference (seen once in 9 runs of TestClusterFailover, in the full
// suite; not reproduced alone).
const clusterIdle = 8 * time.Second

// TestRunOnClusters runs three `cohortline run` instances in one consumer
// group over a 12-partition topic on the three-broker Kafka cluster
// (replication factor 3, min.insync.replicas 2), each writing through a
// different server of the 2 shards x 2 replicas ClickHouse cluster. The
// current partials read through the Distributed tables, from every one of
// the four servers, equal the single-node reference cell by cell; and each
// shard's two replicas hold the same rows, so a lost server loses nothing.
func TestRunOnClusters(t *testing.T) {
	brokers := devenv.KafkaCluster(t)
	nodes, cluster := devenv.ClickHouseCluster(t)
	set := newClusterSet(t, brokers, nodes, cluster, "--seed", "41", "--users", "3000", "--events", "60000", "--span", "4h",
		"--late", "0.02", "--duplicates", "0.02", "--bad", "0.01")

	// An operator migrates once, ON CLUSTER, before starting instances:
	// three instances migrating at once would queue the same DDL thrice.
	migrateArgs := []string{"migrate", "--clickhouse", strings.Join(nodes, ","), "--cluster", cluster,
		"--database", set.db, "--published-database", set.db + "_published"}
	began := time.Now()
	if code, out, errOut := runCLI(t, "", migrateArgs...); code != exitOK {
		t.Fatalf("migrate --cluster: exit %d\n%s%s", code, out, errOut)
	}
	t.Logf("migrate --cluster took %.1fs", time.Since(began).Seconds())
	// Again: nothing to apply, and no ON CLUSTER statement waits on a
	// stalled DDL worker.
	if code, out, errOut := runCLI(t, "", migrateArgs...); code != exitOK || strings.Contains(out, "applied 0") {
		t.Fatalf("migrate --cluster again: exit %d\n%s%s", code, out, errOut)
	}

	bin := buildCohortline(t)
	began = time.Now()
	var daemons []*daemon
	for i := range 3 {
		config := set.writeConfig(t, fmt.Sprintf("run%d.yaml", i), runOptions{clickhouse: nodes[i], cluster: cluster, idleTimeout: clusterIdle})
		daemons = append(daemons, startDaemon(t, bin, config, filepath.Join(set.dir, fmt.Sprintf("run%d.log", i))))
	}
	split := waitForSplit(t, brokers[0], set.name, set.name, []int{4, 4, 4}, 60*time.Second)
	t.Logf("%.1fs: three members, partitions %v", time.Since(began).Seconds(), split)

	for i, node := range nodes {
		client := set.clusterClient(t, node, cluster)
		exit := daemons[i%len(daemons)].exit
		got, err := waitForPartials(t, client, set.want, 120*time.Second, exit)
		if err != nil {
			t.Fatalf("through the Distributed tables of %s: %v\nlog of instance %d:\n%s", node, err, i%len(daemons), daemons[i%len(daemons)].logTail(20))
		}
		t.Logf("%.1fs: %s: %d partials through the Distributed tables equal the reference", time.Since(began).Seconds(), node, len(got))
	}
	for _, d := range daemons {
		stopDaemon(t, d)
	}

	// Replicas of a shard hold the same local rows (once each has fetched
	// its peer's parts); both shards hold some.
	perNode := make([]uint64, len(nodes))
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(time.Second) {
		for i, node := range nodes {
			perNode[i] = countLocalPartials(t, node, set.db)
		}
		if perNode[0] == perNode[1] && perNode[2] == perNode[3] || time.Now().After(deadline) {
			break
		}
	}
	t.Logf("cohort_partials_local rows per server (s1r1, s1r2, s2r1, s2r2): %v", perNode)
	if perNode[0] != perNode[1] || perNode[2] != perNode[3] {
		t.Errorf("replicas differ: %v", perNode)
	}
	if perNode[0] == 0 || perNode[2] == 0 {
		t.Errorf("a shard holds no partials: %v (sharding by cohort_id should spread them)", perNode)
	}
	publishOnCluster(t, set, nodes, cluster)
}

// publishOnCluster publishes what the instances wrote to the cluster, then
// backfills the range from the same events (a republish: the rows readers
// see stay as they were), from an empty archive (the cohorts of every
// window leave both shards: ReplaceEnrichmentWindow across shards) and
// from the events again (they come back, equal).
func publishOnCluster(t *testing.T, set *faultSet, nodes []string, cluster string) {
	config := set.writeConfig(t, "publish.yaml", runOptions{clickhouse: nodes[0], cluster: cluster})
	from, to := synth.DefaultStart.Format(time.RFC3339), synth.DefaultStart.Add(4*time.Hour).Format(time.RFC3339)
	began := time.Now()
	if code, out, errOut := runCLI(t, "", "publish", "--config", config, "--from", from, "--to", to); code != exitOK {
		t.Fatalf("publish on the cluster: exit %d\n%s%s", code, out, errOut)
	}
	syncPublished(t, nodes, set.db+"_published")
	published := publishedRows(t, set)
	if len(published) == 0 {
		t.Fatal("publish on the cluster: no rows readers see")
	}
	t.Logf("publish on the cluster: %d rows in %.1fs", len(published), time.Since(began).Seconds())
	empty := filepath.Join(set.dir, "empty.ndjson")
	writeTestFile(t, empty, "")
	for i, step := range []struct {
		name, file string
		want       []string
	}{
		{"the same events", set.ndjson, published},
		{"an empty archive", empty, nil},
		{"the same events again", set.ndjson, published},
	} {
		began := time.Now()
		code, out, errOut := runCLI(t, "", "backfill", "--config", config, "--from", from, "--to", to,
			"--checkpoint", filepath.Join(set.dir, fmt.Sprintf("backfill%d.checkpoint.json", i)),
			"--files", step.file, "--partitions", fmt.Sprint(clusterPartitions))
		if code != exitOK {
			t.Fatalf("backfill from %s on the cluster: exit %d\n%s%s", step.name, code, out, errOut)
		}
		syncPublished(t, nodes, set.db+"_published")
		if diff := diffLines(publishedRows(t, set), step.want); diff != "" {
			t.Errorf("after a backfill from %s on the cluster, the published rows differ from those wanted:\n%s", step.name, diff)
		}
		t.Logf("backfill from %s and republish on the cluster: %.1fs", step.name, time.Since(began).Seconds())
	}
}

// syncPublished lets every replica of the published rows catch up with
// its peer: a write reaches one replica of each shard, and a reader of
// the Distributed table may read the other.
func syncPublished(t *testing.T, nodes []string, db string) {
	t.Helper()
	for _, node := range nodes {
		conn, err := ch.Open(&ch.Options{Addr: []string{node}, Protocol: ch.Native})
		if err != nil {
			t.Fatal(err)
		}
		err = conn.Exec(t.Context(), "SYSTEM SYNC REPLICA "+db+".cohort_enrichment_local")
		conn.Close()
		if err != nil {
			t.Fatalf("syncing %s.cohort_enrichment_local on %s: %v", db, node, err)
		}
	}
}

// newClusterSet is newFaultSet on the clusters: the data set in a topic
// of clusterPartitions partitions on the Kafka cluster, the reference,
// and databases dropped ON CLUSTER at cleanup.
func newClusterSet(t *testing.T, brokers, nodes []string, cluster string, genFlags ...string) *faultSet {
	t.Helper()
	s := &faultSet{kafka: strings.Join(brokers, ","), clickhouse: nodes[0], dir: t.TempDir()}
	suffix := time.Now().UnixNano()
	s.name, s.db = fmt.Sprintf("it-cluster-%d", suffix), fmt.Sprintf("it_cluster_%d", suffix)
	s.ndjson = filepath.Join(s.dir, "events.ndjson")
	t.Cleanup(func() { deleteTopics(brokers[0], s.name, s.name+".dlq") })
	for _, out := range [][]string{{"--out", s.ndjson}, {"--kafka", brokers[0], "--topic", s.name, "--partitions", fmt.Sprint(clusterPartitions)}} {
		if code, _, errOut := runCLI(t, "", append(append([]string{"gen"}, genFlags...), out...)...); code != exitOK {
			t.Fatalf("gen %v: exit %d: %s", out, code, errOut)
		}
	}
	conn, err := ch.Open(&ch.Options{Addr: []string{nodes[0]}, Protocol: ch.Native})
	if err != nil {
		t.Fatal(err)
	}
	s.conn = conn
	t.Cleanup(func() { conn.Close() })
	t.Cleanup(func() { dropDatabasesOnCluster(t, nodes[0], cluster, s.db, s.db+"_published") })
	cfg, err := loadConfig(s.writeConfig(t, "spec.yaml", runOptions{}), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	s.want = streamingReferenceOf(t, s.ndjson, cfg.Spec, clusterPartitions)
	return s
}

// migrateCluster migrates the set's databases ON CLUSTER, as an operator
// does once before starting instances.
func (s *faultSet) migrateCluster(t *testing.T, nodes []string, cluster string) {
	t.Helper()
	if code, out, errOut := runCLI(t, "", "migrate", "--clickhouse", strings.Join(nodes, ","), "--cluster", cluster,
		"--database", s.db, "--published-database", s.db+"_published"); code != exitOK {
		t.Fatalf("migrate --cluster: exit %d\n%s%s", code, out, errOut)
	}
}

// clusterClient opens a client of node in cluster mode on the set's
// databases: it reads through the Distributed tables. Closed at cleanup.
func (s *faultSet) clusterClient(t *testing.T, node, cluster string) *clickhouse.Client {
	t.Helper()
	c, err := clickhouse.Open(t.Context(), clickhouse.Config{Addr: []string{node}, Database: s.db, PublishedDatabase: s.db + "_published", Cluster: cluster})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// referenceWith is the reference of the set's events followed by those
// of the file more: a second data set produced into the topic later.
func (s *faultSet) referenceWith(t *testing.T, more string) []string {
	t.Helper()
	both := filepath.Join(s.dir, "both.ndjson")
	concatFiles(t, both, s.ndjson, more)
	cfg, err := loadConfig(s.writeConfig(t, "spec.yaml", runOptions{}), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	return streamingReferenceOf(t, both, cfg.Spec, clusterPartitions)
}

func dropDatabasesOnCluster(t testing.TB, addr, cluster string, dbs ...string) {
	conn, err := ch.Open(&ch.Options{Addr: []string{addr}, Protocol: ch.Native})
	if err != nil {
		t.Error(err)
		return
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for _, db := range dbs {
		if err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+db+" ON CLUSTER `"+cluster+"`"); err != nil {
			t.Errorf("dropping %s on cluster %s: %v", db, cluster, err)
		}
	}
}

// countLocalPartials counts the partial rows one server holds itself
// (its shard's replica), not through the Distributed table.
func countLocalPartials(t *testing.T, addr, db string) uint64 {
	t.Helper()
	conn, err := ch.Open(&ch.Options{Addr: []string{addr}, Protocol: ch.Native})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var n uint64
	if err := conn.QueryRow(t.Context(), "SELECT count() FROM "+db+".cohort_partials_local").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// replicaStates describes each node's replicas of the set's partials and
// flushes: rows held, read-only, replication queue, for a failure message.
func replicaStates(nodes []string, db string) string {
	var b strings.Builder
	for _, addr := range nodes {
		fmt.Fprintf(&b, "%s: ", addr)
		conn, err := ch.Open(&ch.Options{Addr: []string{addr}, Protocol: ch.Native, DialTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second})
		if err != nil {
			fmt.Fprintf(&b, "%v\n", err)
			continue
		}
		for _, table := range []string{"cohort_partials_local", "window_progress_local"} {
			var rows uint64
			var queue uint32
			var readonly uint8
			err := conn.QueryRow(context.Background(), "SELECT (SELECT count() FROM "+db+"."+table+"), is_readonly, queue_size FROM system.replicas WHERE database = ? AND table = ?",
				db, table).Scan(&rows, &readonly, &queue)
			if err != nil {
				fmt.Fprintf(&b, "%s: %v; ", table, err)
				continue
			}
			fmt.Fprintf(&b, "%s: %d rows, read-only %d, queue %d; ", table, rows, readonly, queue)
		}
		conn.Close()
		b.WriteString("\n")
	}
	return b.String()
}
