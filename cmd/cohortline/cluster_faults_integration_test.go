package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/cohortline/cohortline/deploy/devenv"
)

// Faults of the servers themselves on the cluster topology, mid-stream:
// a node is killed with SIGKILL (deploy/dev/node kill) while three
// instances hold open windows and have flushed some, more data arrives
// while it is down, and it is started again. The partials read through
// the Distributed tables then equal the single-node reference of both
// data sets: nothing lost, nothing counted twice.

// TestClusterBrokerKilledMidStream kills the broker that leads partition
// 0 (the coordinator of the group, too, when it is that one).
func TestClusterBrokerKilledMidStream(t *testing.T) {
	brokers, nodes, cluster := devenv.ClusterForFaults(t)
	clusterFaultScenario(t, brokers, nodes, cluster, func(t *testing.T, set *faultSet) ([]string, string) {
		leader, err := partitionLeader(t.Context(), brokers, set.name, 0)
		if err != nil {
			t.Fatal(err)
		}
		i := slices.Index(brokers, leader)
		if i < 0 {
			t.Fatalf("partition 0 is led by %s, none of %v", leader, brokers)
		}
		return []string{fmt.Sprintf("kafkacluster/node%d", i+1)}, brokers[(i+1)%len(brokers)]
	})
}

// TestClusterReplicaKilledMidStream kills the first replica of shard 1,
// the server the first instance writes to first (its addr list starts
// there and goes on to the other nodes).
func TestClusterReplicaKilledMidStream(t *testing.T) {
	brokers, nodes, cluster := devenv.ClusterForFaults(t)
	clusterFaultScenario(t, brokers, nodes, cluster, func(t *testing.T, set *faultSet) ([]string, string) {
		return []string{"chcluster/s1r1"}, brokers[0]
	})
}

// TestClusterShardDownMidStream kills both replicas of shard 1: the
// writers of the cohorts it holds fail, retry and restart from their last
// commit, reading nothing meanwhile (memory stays bounded), and catch up
// once it is back.
func TestClusterShardDownMidStream(t *testing.T) {
	brokers, nodes, cluster := devenv.ClusterForFaults(t)
	set := clusterFaultScenario(t, brokers, nodes, cluster, func(t *testing.T, set *faultSet) ([]string, string) {
		return []string{"chcluster/s1r1", "chcluster/s1r2"}, brokers[0]
	})
	restarts := 0
	for i := range 3 {
		data, _ := os.ReadFile(filepath.Join(set.dir, fmt.Sprintf("run%d.log", i)))
		restarts += strings.Count(string(data), "partition worker failed; restarting from the last commit")
	}
	t.Logf("%d partition worker restarts while the shard was down", restarts)
	if restarts == 0 {
		t.Error("no partition worker failed while shard 1 was down: the outage was not met, the test shows nothing")
	}
}

// clusterFaultScenario runs the scenario; fault names the nodes to kill
// and a broker that stays up.
func clusterFaultScenario(t *testing.T, brokers, nodes []string, cluster string, fault func(*testing.T, *faultSet) (killed []string, survivor string)) *faultSet {
	set := newClusterSet(t, brokers, nodes, cluster, "--seed", "45", "--users", "3000", "--events", "60000", "--span", "4h",
		"--late", "0.02", "--duplicates", "0.02")
	set.migrateCluster(t, nodes, cluster)
	bin := buildCohortline(t)
	var daemons []*daemon
	for i := range 3 {
		// Every instance knows every node, starting at its own: a dead
		// server is passed over for the next.
		addrs := append(slices.Clone(nodes[i:]), nodes[:i]...)
		config := set.writeConfig(t, fmt.Sprintf("run%d.yaml", i), runOptions{clickhouse: strings.Join(addrs, ", "), cluster: cluster, idleTimeout: clusterIdle})
		daemons = append(daemons, startDaemon(t, bin, config, filepath.Join(set.dir, fmt.Sprintf("run%d.log", i))))
	}
	down, survivor := fault(t, set)
	node := strings.Join(down, " and ")

	// Mid-stream: some windows flushed and committed, the rest still open.
	if !waitUntil(60*time.Second, func() bool {
		committed, err := groupOffsets(t.Context(), survivor, set.name, set.name)
		return err == nil && slices.ContainsFunc(committed, func(o int64) bool { return o > 0 })
	}) {
		t.Fatal("no partition committed within 60s")
	}
	killed := time.Now()
	for _, n := range down {
		runNode(t, "kill", n)
		t.Cleanup(func() { runNode(t, "start", n) }) // whatever happens, the topology is whole again
	}

	if strings.HasPrefix(down[0], "kafkacluster/") {
		// Produce once the partitions have new leaders: the producer's
		// retries are shorter than the broker's fencing (9 s).
		dead := brokerIndex(brokers, down[0])
		if !waitUntil(60*time.Second, func() bool {
			leaders, err := partitionLeaders(t.Context(), survivor, set.name)
			return err == nil && !slices.Contains(leaders, brokers[dead])
		}) {
			t.Fatalf("60s after killing %s, it still leads partitions of %s", node, set.name)
		}
		t.Logf("%.1fs after the kill: every partition has a leader among the survivors", time.Since(killed).Seconds())
	}
	second := filepath.Join(set.dir, "second.ndjson")
	genSecond := []string{"gen", "--seed", "46", "--users", "3000", "--events", "60000", "--span", "4h", "--start", "2026-11-01T06:00:00Z"}
	for _, out := range [][]string{{"--out", second}, {"--kafka", survivor, "--topic", set.name, "--partitions", fmt.Sprint(clusterPartitions)}} {
		if code, _, errOut := runCLI(t, "", append(genSecond, out...)...); code != exitOK {
			t.Fatalf("gen %v while %s is down: exit %d: %s", out, node, code, errOut)
		}
	}
	time.Sleep(5 * time.Second) // the instances read the second set with the node down
	for _, n := range down {
		runNode(t, "start", n)
	}
	t.Logf("%.1fs: %s back", time.Since(killed).Seconds(), node)

	want := set.referenceWith(t, second)
	// Equal 22-55 s after the kill in 9 local runs; the wait is long: CI runs this
	// next to other packages on two cores, where it once took over 120 s.
	// What the test checks is the result, not how soon it comes.
	if _, err := waitForPartials(t, set.clusterClient(t, nodes[3], cluster), want, 300*time.Second, daemons[1].exit); err != nil {
		// The error first: CI keeps the head and the tail of long output.
		t.Errorf("%.1fs after the kill: %v", time.Since(killed).Seconds(), err)
		t.Logf("the replicas:\n%s", replicaStates(nodes, set.db))
		for i, d := range daemons {
			t.Logf("instance %d: its last warnings and errors:\n%s\nthe tail of its log:\n%s", i, d.logProblems(8), d.logTail(10))
		}
		t.FailNow()
	}
	t.Logf("%.1fs after the kill: %d partials through the Distributed tables equal the reference of both data sets", time.Since(killed).Seconds(), len(want))
	for i, d := range daemons {
		select {
		case code := <-d.exit:
			t.Errorf("instance %d exited with %d during the fault:\n%s", i, code, d.logTail(20))
		default:
			stopDaemon(t, d)
		}
	}
	return set
}

// runNode runs deploy/dev/node ACTION NODE.
func runNode(t *testing.T, action, node string) {
	t.Helper()
	out, err := exec.Command(filepath.Join("..", "..", "deploy", "dev", "node"), action, node).CombinedOutput()
	if err != nil {
		t.Fatalf("deploy/dev/node %s %s: %v\n%s", action, node, err, out)
	}
}

// brokerIndex is the index in brokers of kafkacluster/nodeN (node N is
// broker N-1 of COHORTLINE_KAFKA_CLUSTER).
func brokerIndex(brokers []string, node string) int {
	var n int
	fmt.Sscanf(node, "kafkacluster/node%d", &n)
	return n - 1
}

// partitionLeader is the host:port of the broker leading the partition.
func partitionLeader(ctx context.Context, brokers []string, topic string, partition int) (string, error) {
	leaders, err := partitionLeaders(ctx, brokers[0], topic)
	if err != nil {
		return "", err
	}
	if partition >= len(leaders) {
		return "", fmt.Errorf("topic %s has %d partitions", topic, len(leaders))
	}
	return leaders[partition], nil
}

// partitionLeaders lists the leader (host:port) of each partition of
// topic, by partition, as broker's metadata says.
func partitionLeaders(ctx context.Context, broker, topic string) ([]string, error) {
	client := &kafka.Client{Addr: kafka.TCP(broker), Timeout: 5 * time.Second}
	meta, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return nil, err
	}
	if len(meta.Topics) != 1 || meta.Topics[0].Error != nil {
		return nil, fmt.Errorf("metadata of %s: %+v", topic, meta.Topics)
	}
	leaders := make([]string, len(meta.Topics[0].Partitions))
	for _, p := range meta.Topics[0].Partitions {
		if p.Error != nil {
			return nil, fmt.Errorf("metadata of %s/%d: %w", topic, p.ID, p.Error)
		}
		leaders[p.ID] = fmt.Sprintf("%s:%d", p.Leader.Host, p.Leader.Port)
	}
	return leaders, nil
}

// groupOffsets is committedOffsetsOf that returns its error: the
// coordinator may be the killed broker.
func groupOffsets(ctx context.Context, broker, group, topic string) ([]int64, error) {
	client := &kafka.Client{Addr: kafka.TCP(broker), Timeout: 5 * time.Second}
	partitions := make([]int, clusterPartitions)
	for p := range partitions {
		partitions[p] = p
	}
	resp, err := client.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{topic: partitions}})
	if err != nil {
		return nil, err
	}
	out := make([]int64, clusterPartitions)
	for _, po := range resp.Topics[topic] {
		out[po.Partition] = po.CommittedOffset
	}
	return out, nil
}
