package main

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"
)

// clickHouseOutage is how long TestRunClickHouseOutage keeps ClickHouse
// away: several rounds of the writer giving up and the worker restarting.
const clickHouseOutage = 30 * time.Second

// TestRunClickHouseOutage runs `run` (in this process) against ClickHouse
// through a chProxy, cuts the proxy for 30s right after the first window is
// flushed, while the partitions are still being read, then restores it.
// While ClickHouse is away the writer retries, gives up, and the worker
// restarts from its last commit, again and again; the heap stays bounded
// (the worker stops reading while it cannot flush). Afterwards ClickHouse
// holds exactly the reference partials: nothing lost, nothing counted twice.
func TestRunClickHouseOutage(t *testing.T) {
	set := newFaultSet(t, "outage", "--seed", "37", "--users", "3000", "--events", "60000", "--span", "4h",
		"--late", "0.02", "--duplicates", "0.02", "--bad", "0.01", "--drift-share", "0.2")
	proxy := startCHProxy(t, set.clickhouse, set.db)
	config := set.writeConfig(t, "run.yaml", runOptions{clickhouse: proxy.addr, restartBackoff: 500 * time.Millisecond,
		retry: "{max_attempts: 4, initial_backoff: 50ms, max_backoff: 400ms}"})

	ctx, stop := context.WithCancel(t.Context())
	defer stop()
	var logs lockedBuffer
	exit := startRun(ctx, config, &logs)
	if !waitUntil(60*time.Second, func() bool { return set.flushes(t, "") > 0 }) {
		t.Fatalf("no window flushed in 60s; logs:\n%s", tail(logs.String(), 20))
	}
	proxy.cut()
	before := set.flushes(t, "")
	began := time.Now()
	var peak uint64
	var ms runtime.MemStats
	for time.Since(began) < clickHouseOutage {
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapInuse)
		select {
		case code := <-exit:
			t.Fatalf("run exited %d while ClickHouse was away; logs:\n%s", code, tail(logs.String(), 20))
		case <-time.After(250 * time.Millisecond):
		}
	}
	during := set.flushes(t, "") // straight to ClickHouse: an INSERT it had whole when cut may land
	proxy.restore()
	t.Logf("ClickHouse away for %v (flushes stored: %d at the cut, %d at the end): %d connection attempts refused, %d worker restarts, peak HeapInuse %.1f MiB",
		clickHouseOutage, before, during, proxy.refused.Load(), strings.Count(logs.String(), "partition worker failed"), float64(peak)/(1<<20))
	if proxy.refused.Load() == 0 {
		t.Errorf("run did not try to reach ClickHouse during the outage")
	}
	const bound = 512 << 20
	if peak > bound {
		t.Errorf("HeapInuse reached %.1f MiB while ClickHouse was away, want under %d MiB", float64(peak)/(1<<20), bound>>20)
	}

	restored := time.Now()
	got, err := waitForPartials(t, set.client(t, ""), set.want, 120*time.Second, exit)
	if err != nil {
		t.Fatalf("%v\nlogs:\n%s", err, tail(logs.String(), 20))
	}
	t.Logf("%d partials equal the reference %v after ClickHouse came back", len(got), time.Since(restored).Round(time.Millisecond))
	stop()
	if code := <-exit; code != exitOK {
		t.Errorf("run exited %d after cancel; logs:\n%s", code, tail(logs.String(), 20))
	}
}
