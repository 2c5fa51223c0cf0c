package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/cohortline/cohortline/deploy/devenv"
)

// TestClusterFailover kills one of three instances with SIGKILL (no
// LeaveGroup) and then produces more data: the survivors must take the
// dead member's partitions over once the coordinator has given up on it
// (kafka.session_timeout, 6s by default), and commit past the new data on
// those partitions. It logs the time from the kill to the survivors'
// first commit on a dead partition and to their last (figures, not
// assertions: the issue asks for a takeover within 10 s; measured
// 6.3-7.2 s; the last waits for clusterIdle to close the data's tail).
// The final partials equal the reference of both data sets.
func TestClusterFailover(t *testing.T) {
	brokers := devenv.KafkaCluster(t)
	nodes, cluster := devenv.ClickHouseCluster(t)
	set := newClusterSet(t, brokers, nodes, cluster, "--seed", "43", "--users", "2000", "--events", "30000", "--span", "3h")
	set.migrateCluster(t, nodes, cluster)
	bin := buildCohortline(t)
	var daemons []*daemon
	for i := range 3 {
		config := set.writeConfig(t, fmt.Sprintf("run%d.yaml", i), runOptions{clickhouse: nodes[i], cluster: cluster, idleTimeout: clusterIdle})
		daemons = append(daemons, startDaemon(t, bin, config, filepath.Join(set.dir, fmt.Sprintf("run%d.log", i))))
	}
	waitForSplit(t, brokers[0], set.name, set.name, []int{4, 4, 4}, 60*time.Second)
	ends := stableEnds(t, brokers[0], set.name)
	if !waitUntil(60*time.Second, func() bool {
		return slices.Equal(committedOffsetsOf(t, brokers[0], set.name, set.name, clusterPartitions), ends)
	}) {
		t.Fatalf("the first data set was not committed in 60s: committed %v, ends %v", committedOffsetsOf(t, brokers[0], set.name, set.name, clusterPartitions), ends)
	}
	dead := assignedPartitions(t, daemons[0].log)
	if len(dead) != 4 {
		t.Fatalf("instance 0 holds partitions %v, want 4", dead)
	}

	killed := time.Now()
	daemons[0].kill()
	second := filepath.Join(set.dir, "second.ndjson")
	genSecond := []string{"gen", "--seed", "44", "--users", "2000", "--events", "30000", "--span", "3h", "--start", "2026-11-01T06:00:00Z"}
	for _, out := range [][]string{{"--out", second}, {"--kafka", brokers[0], "--topic", set.name, "--partitions", fmt.Sprint(clusterPartitions)}} {
		if code, _, errOut := runCLI(t, "", append(genSecond, out...)...); code != exitOK {
			t.Fatalf("gen %v: exit %d: %s", out, code, errOut)
		}
	}
	// gen's acks=1 returns before the followers have the records; the end
	// offsets (high watermarks) follow once min.insync.replicas have them.
	ends = stableEnds(t, brokers[0], set.name)
	before := committedOffsetsOf(t, brokers[0], set.name, set.name, clusterPartitions)
	var first, last time.Duration
	for deadline := killed.Add(90 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		committed := committedOffsetsOf(t, brokers[0], set.name, set.name, clusterPartitions)
		moved, done := false, true
		for _, p := range dead {
			moved = moved || committed[p] > before[p]
			done = done && committed[p] == ends[p]
		}
		if moved && first == 0 {
			first = time.Since(killed)
		}
		if done {
			last = time.Since(killed)
			break
		}
	}
	if last == 0 {
		t.Fatalf("90s after the kill, the dead member's partitions %v are not committed to their ends %v: %v",
			dead, ends, committedOffsetsOf(t, brokers[0], set.name, set.name, clusterPartitions))
	}
	t.Logf("kill -9 to the survivors' first commit on a dead partition: %.1fs; to the last (partitions %v at their ends): %.1fs",
		first.Seconds(), dead, last.Seconds())

	want := set.referenceWith(t, second)
	client := set.clusterClient(t, nodes[3], cluster)
	if _, err := waitForPartials(t, client, want, 60*time.Second, daemons[1].exit); err != nil {
		t.Fatal(err)
	}
	for _, d := range daemons[1:] {
		stopDaemon(t, d)
	}
}

// stableEnds lists the topic's end offsets once they stop moving.
func stableEnds(t *testing.T, broker, topic string) []int64 {
	t.Helper()
	ends := offsetsAtOf(t, broker, topic, kafka.LastOffset, clusterPartitions)
	for range 30 {
		time.Sleep(time.Second)
		next := offsetsAtOf(t, broker, topic, kafka.LastOffset, clusterPartitions)
		if slices.Equal(next, ends) {
			return ends
		}
		ends = next
	}
	t.Fatalf("the end offsets of %s still move after 30s: %v", topic, ends)
	return nil
}

// assignedPartitions reads, from a run's JSON log, the partitions of the
// newest generation it was given.
func assignedPartitions(t *testing.T, logFile string) []int {
	t.Helper()
	data, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	byGen := map[int][]int{}
	newest := -1
	for _, line := range strings.Split(string(data), "\n") {
		var rec struct {
			Msg        string
			Partition  int
			Generation int
		}
		if json.Unmarshal([]byte(line), &rec) != nil || rec.Msg != "partition assigned" {
			continue
		}
		byGen[rec.Generation] = append(byGen[rec.Generation], rec.Partition)
		newest = max(newest, rec.Generation)
	}
	slices.Sort(byGen[newest])
	return byGen[newest]
}

func concatFiles(t *testing.T, dst string, srcs ...string) {
	t.Helper()
	var all []byte
	for _, s := range srcs {
		b, err := os.ReadFile(s)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	writeTestFile(t, dst, string(all))
}

// TestClusterRebalanceOneThreeOne scales one instance to three and back
// to one mid-stream, on the clusters: the group splits 12/0/0 → 4/4/4 →
// 12 while windows are still being flushed (every insert is answered
// 300 ms late through a chProxy, so the stream lasts), and the partials
// through the Distributed tables equal the reference.
func TestClusterRebalanceOneThreeOne(t *testing.T) {
	brokers := devenv.KafkaCluster(t)
	nodes, cluster := devenv.ClickHouseCluster(t)
	set := newClusterSet(t, brokers, nodes, cluster, "--seed", "47", "--users", "3000", "--events", "60000", "--span", "5h",
		"--late", "0.02", "--duplicates", "0.02")
	set.migrateCluster(t, nodes, cluster)
	bin := buildCohortline(t)
	slow := startCHProxy(t, nodes[0], set.db)
	var flushes atomic.Int64
	slow.setHook(func(ev proxyEvent) bool {
		if ev.Phase == insertAnswered {
			time.Sleep(300 * time.Millisecond)
			if ev.Table == "window_progress" {
				flushes.Add(1)
			}
		}
		return true
	})
	config := func(i int) string {
		return set.writeConfig(t, fmt.Sprintf("run%d.yaml", i), runOptions{clickhouse: slow.addr, cluster: cluster, idleTimeout: clusterIdle})
	}
	began := time.Now()
	a := startDaemon(t, bin, config(0), filepath.Join(set.dir, "run0.log"))
	waitForSplit(t, brokers[0], set.name, set.name, []int{clusterPartitions}, 60*time.Second)
	if !waitUntil(60*time.Second, func() bool { return flushes.Load() >= 3 }) {
		t.Fatalf("one instance flushed %d windows in 60s; log:\n%s", flushes.Load(), a.logTail(20))
	}
	b := startDaemon(t, bin, config(1), filepath.Join(set.dir, "run1.log"))
	c := startDaemon(t, bin, config(2), filepath.Join(set.dir, "run2.log"))
	waitForSplit(t, brokers[0], set.name, set.name, []int{4, 4, 4}, 60*time.Second)
	atThree := flushes.Load()
	t.Logf("%.1fs: three instances after %d flushes", time.Since(began).Seconds(), atThree)
	if !waitUntil(60*time.Second, func() bool { return flushes.Load() >= atThree+3 }) {
		t.Fatalf("three instances flushed %d windows in 60s", flushes.Load()-atThree)
	}
	for _, d := range []*daemon{b, c} {
		if code, took, ok := d.stop(10 * time.Second); !ok || code != exitOK {
			t.Fatalf("stopping an instance: exit %d (exited %v) after %v; log:\n%s", code, ok, took, d.logTail(20))
		}
	}
	atOne := flushes.Load()
	waitForSplit(t, brokers[0], set.name, set.name, []int{clusterPartitions}, 60*time.Second)
	t.Logf("%.1fs: back to one instance after %d flushes", time.Since(began).Seconds(), atOne)
	got, err := waitForPartials(t, set.clusterClient(t, nodes[2], cluster), set.want, 180*time.Second, a.exit)
	if err != nil {
		t.Fatalf("%v\nlog of the one left:\n%s", err, a.logTail(20))
	}
	final := flushes.Load()
	t.Logf("%.1fs: %d partials equal the reference; %d flushes in all, %d after scaling back to one",
		time.Since(began).Seconds(), len(got), final, final-atOne)
	if final == atOne {
		t.Errorf("every window was flushed before scaling back to one: the 3 → 1 step was not mid-stream")
	}
	stopDaemon(t, a)
}
