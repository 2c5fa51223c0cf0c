package main

import (
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// TestRunRebalance runs two `cohortline run` processes in one consumer
// group on a 4-partition topic. Once the group has given each two
// partitions and the first has flushed a window of its own, the first is
// stopped with SIGTERM mid-run; the survivor takes its partitions over,
// resuming from their commits and last flushes, and ClickHouse ends up with
// exactly the reference partials.
//
// The first process reaches ClickHouse through a chProxy that answers every
// INSERT a second late, so that it is still mid-run when it is stopped (a
// flush takes two INSERTs; each partition has five windows). The test
// fails if it was not.
func TestRunRebalance(t *testing.T) {
	set := newFaultSet(t, "rebalance", "--seed", "35", "--users", "3000", "--events", "60000", "--span", "4h",
		"--late", "0.02", "--duplicates", "0.02", "--bad", "0.01", "--drift-share", "0.2")
	bin := buildCohortline(t)
	slow := startCHProxy(t, set.clickhouse, set.db)
	var started, flushedA atomic.Int64
	slow.setHook(func(ev proxyEvent) bool {
		switch {
		case ev.Phase == resumeRead:
			started.Add(1)
		case ev.Phase == insertAnswered:
			time.Sleep(time.Second)
			if ev.Table == "window_progress" {
				flushedA.Add(1)
			}
		}
		return true
	})
	began := time.Now()
	a := startDaemon(t, bin, set.writeConfig(t, "a.yaml", runOptions{clickhouse: slow.addr}), filepath.Join(set.dir, "a.log"))
	if !waitUntil(30*time.Second, func() bool { return started.Load() > 0 }) {
		t.Fatalf("first process: no partition worker started in 30s; log:\n%s", a.logTail(20))
	}
	b := startDaemon(t, bin, set.writeConfig(t, "b.yaml", runOptions{}), filepath.Join(set.dir, "b.log"))
	split := waitForSplit(t, set.kafka, set.name, set.name, []int{2, 2}, 45*time.Second)
	t.Logf("%.1fs: two members, partitions %v", time.Since(began).Seconds(), split)

	before := flushedA.Load()
	if !waitUntil(30*time.Second, func() bool { return flushedA.Load() > before }) {
		t.Fatalf("first process flushed nothing in 30s after the rebalance; log:\n%s", a.logTail(20))
	}
	versions, err := set.flushVersions(t.Context(), set.db)
	if err != nil {
		t.Fatal(err)
	}
	code, took, ok := a.stop(10 * time.Second)
	if !ok || code != exitOK {
		t.Fatalf("first process: exit %d (exited: %v) %v after SIGTERM; log:\n%s", code, ok, took, a.logTail(20))
	}
	t.Logf("%.1fs: first process stopped (exit 0 in %v) after %d flushes through its proxy, %d (window, partition) flushed in all",
		time.Since(began).Seconds(), took.Round(time.Millisecond), flushedA.Load(), len(versions))

	split = waitForSplit(t, set.kafka, set.name, set.name, []int{e2ePartitions}, 45*time.Second)
	t.Logf("%.1fs: the survivor has partitions %v", time.Since(began).Seconds(), split)
	got, err := waitForPartials(t, set.client(t, ""), set.want, 90*time.Second, b.exit)
	if err != nil {
		t.Fatalf("%v\nsurvivor's log:\n%s", err, b.logTail(20))
	}
	t.Logf("%.1fs: %d partials in ClickHouse equal the reference", time.Since(began).Seconds(), len(got))
	stopDaemon(t, b)
	final, err := set.flushVersions(t.Context(), set.db)
	if err != nil {
		t.Fatal(err)
	}
	if len(versions) >= len(final) {
		t.Errorf("all %d (window, partition) were flushed before the first process stopped: the takeover was not mid-run", len(final))
	}
}
