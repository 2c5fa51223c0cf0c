package main

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// killPoint is where TestRunCrash kills the process: at the first event of
// this kind on the wire to ClickHouse (chProxy), or delay after it.
type killPoint struct {
	name  string
	event proxyEvent
	// delay > 0 lets the event through and kills this long after it;
	// otherwise the connection is held until the process is dead, so it
	// never learns what happened on the server.
	delay time.Duration
	// hold > 0 holds the connection and kills this long after the event,
	// so that the process goes on meanwhile without the answer.
	hold time.Duration
}

var (
	killMidWindowTimed = killPoint{name: "mid-window, 300ms after the first partition worker started",
		event: proxyEvent{Phase: resumeRead}, delay: 300 * time.Millisecond}
	killMidWindowInsert = killPoint{name: "mid-window, as the first partials INSERT is sent (nothing of it stored)",
		event: proxyEvent{Table: "cohort_partials", Phase: insertSent}}
	killAfterPartials = killPoint{name: "after a flush's partials are stored, before its window_progress row",
		event: proxyEvent{Table: "window_progress", Phase: insertSent}}
	killBeforeCommit = killPoint{name: "flush stored, its answer held: before the process sees it, so before the commit",
		event: proxyEvent{Table: "window_progress", Phase: insertAnswered}}
	// The workers hand closed windows to their flushers and read on
	// (kafka.max_in_flight_flushes is 2 in the fault tests' configs): with
	// one answer held for a second, every partition reads ahead of its
	// flushes and fills its windows in flight, and the kill lands on them.
	killInFlight = killPoint{name: "flushes in flight: a flush's answer held 1s while the workers read on, then the kill",
		event: proxyEvent{Table: "window_progress", Phase: insertAnswered}, hold: time.Second}
)

// TestRunCrash kills `cohortline run` with SIGKILL at points of the flush
// protocol, restarts it each time, and checks that ClickHouse ends up with
// exactly the reference partials, with the flush versions of a fault-free
// run of the same binary (DESIGN.md: "results after any number of kill -9s
// equal a fault-free run").
//
// The data set spans 3h02m of event time in 1h windows: each partition's
// first two windows close on event time while the run reads, the last two
// close together on the idle timeout (the data stops 2 minutes into the
// last window, within the allowed lateness of the one before).
//
// One kill per process: killMidWindowTimed, killMidWindowInsert,
// killAfterPartials, killInFlight, then killBeforeCommit and killInFlight
// in turn in every following process until every window is flushed. The processes reach ClickHouse through a chProxy
// that reports the protocol's steps and holds a connection until the kill.
func TestRunCrash(t *testing.T) {
	set := newFaultSet(t, "crash", "--seed", "33", "--users", "3000", "--events", "60000", "--span", "3h2m",
		"--late", "0.02", "--duplicates", "0.02", "--bad", "0.01", "--drift-share", "0.2")
	bin := buildCohortline(t)

	// The fault-free run: same binary and topic, its own group and database.
	faultFree := set.db + "_faultfree"
	t.Cleanup(func() { dropDatabases(t, set.clickhouse, faultFree, faultFree+"_published") })
	began := time.Now()
	d := startDaemon(t, bin, set.writeConfig(t, "faultfree.yaml", runOptions{group: set.name + "-faultfree", database: faultFree}),
		filepath.Join(set.dir, "faultfree.log"))
	if _, err := waitForPartials(t, set.client(t, faultFree), set.want, 90*time.Second, d.exit); err != nil {
		t.Fatalf("fault-free run: %v\nlog:\n%s", err, d.logTail(20))
	}
	stopDaemon(t, d)
	wantVersions, err := set.flushVersions(t.Context(), faultFree)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("fault-free run: %d partials, %d flushes of (window, partition) in %v",
		len(set.want), len(wantVersions), time.Since(began).Round(time.Millisecond))

	proxy := startCHProxy(t, set.clickhouse, set.db)
	config := set.writeConfig(t, "run.yaml", runOptions{clickhouse: proxy.addr})
	allFlushed := func() bool {
		got, err := set.flushVersions(t.Context(), set.db)
		return err == nil && len(got) == len(wantVersions)
	}
	began = time.Now()
	var kills []string
	perPoint := map[string]int{}
	for i := 0; ; i++ {
		point := []killPoint{killBeforeCommit, killInFlight}[i%2]
		if early := []killPoint{killMidWindowTimed, killMidWindowInsert, killAfterPartials, killInFlight}; i < len(early) {
			point = early[i]
		}
		if i == 24 {
			t.Fatalf("still killing after %d processes: %s", i, strings.Join(kills, "; "))
		}
		var killed bool
		d, killed = crashOnce(t, bin, config, filepath.Join(set.dir, fmt.Sprintf("run%02d.log", i)), proxy, point, allFlushed)
		if !killed {
			break
		}
		stored := set.flushes(t, set.db)
		kills = append(kills, fmt.Sprintf("#%d at %.1fs, %d flushes stored: %s", i+1, time.Since(began).Seconds(), stored, point.name))
		perPoint[point.name]++
		evictMembers(t, set.kafka, set.name)
	}
	t.Logf("%d kills:\n  %s", len(kills), strings.Join(kills, "\n  "))
	for _, p := range []killPoint{killMidWindowTimed, killMidWindowInsert, killAfterPartials, killInFlight, killBeforeCommit} {
		t.Logf("%2d × %s", perPoint[p.name], p.name)
	}

	got, err := waitForPartials(t, set.client(t, ""), set.want, 60*time.Second, d.exit)
	if err != nil {
		t.Fatalf("after %d kills: %v\nlast process's log:\n%s", len(kills), err, d.logTail(20))
	}
	t.Logf("after %d kills, %d partials in ClickHouse equal the reference (%v)", len(kills), len(got), time.Since(began).Round(time.Millisecond))
	gotVersions, err := set.flushVersions(t.Context(), set.db)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(gotVersions, wantVersions) {
		t.Errorf("flush versions after the kills differ from the fault-free run's:\n got %v\nwant %v", gotVersions, wantVersions)
	}
	stopDaemon(t, d)
}

// crashOnce starts a process and kills it at point. When point does not
// come (every window is flushed, or nothing happened for 15s) it returns
// the process still running, and killed=false.
func crashOnce(t *testing.T, bin, config, log string, proxy *chProxy, point killPoint, allFlushed func() bool) (d *daemon, killed bool) {
	t.Helper()
	fired, release := make(chan struct{}), make(chan struct{})
	var armed atomic.Bool
	armed.Store(true)
	proxy.setHook(func(ev proxyEvent) bool {
		if ev != point.event || !armed.CompareAndSwap(true, false) {
			return true
		}
		if point.delay > 0 {
			time.AfterFunc(point.delay, func() { close(fired) })
			return true
		}
		if point.hold > 0 {
			time.AfterFunc(point.hold, func() { close(fired) })
			<-release
			return false
		}
		close(fired)
		<-release
		return false
	})
	defer proxy.setHook(nil)
	defer close(release) // a held connection is dropped once the process is dead, or the test failed
	d = startDaemon(t, bin, config, log)
	quiet := time.After(15 * time.Second)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		done := false
		select {
		case <-fired:
			d.kill()
			return d, true
		case <-d.done:
			t.Fatalf("process exited %d before the kill point %q; log:\n%s", <-d.exit, point.name, d.logTail(20))
		case <-quiet:
			done = true
		case <-tick.C:
			done = allFlushed()
		}
		if done && armed.CompareAndSwap(true, false) {
			return d, false
		}
	}
}

// stopDaemon stops d with SIGTERM and checks it exits 0 within 10s.
func stopDaemon(t *testing.T, d *daemon) {
	t.Helper()
	code, took, ok := d.stop(10 * time.Second)
	switch {
	case !ok:
		t.Errorf("still running %v after SIGTERM; log:\n%s", took, d.logTail(20))
	case code != exitOK:
		t.Errorf("exit %d after SIGTERM; log:\n%s", code, d.logTail(20))
	}
}
