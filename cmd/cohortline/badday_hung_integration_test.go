package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// clickHouseHang is how long TestRunHungClickHouse keeps ClickHouse silent:
// several read timeouts, worker restarts and a rebalance.
const clickHouseHang = 15 * time.Second

// TestRunHungClickHouse runs the built binary against ClickHouse through a
// chProxy that, right after the first window is flushed, keeps accepting
// connections but answers nothing (a server stuck on a disk or a lock).
// With clickhouse.read_timeout 2s: the statement in flight fails within
// about that, the failure is logged with the address and /readyz names it,
// the worker restarts from its last commit; a second instance started
// during the hang (with a working ClickHouse) gets its share of the
// partitions within seconds, since the hung member leaves its generation
// at once; after the hang ClickHouse holds exactly the reference partials,
// and both instances stop on SIGTERM.
func TestRunHungClickHouse(t *testing.T) {
	set := newFaultSet(t, "hung", "--seed", "53", "--users", "3000", "--events", "60000", "--span", "4h",
		"--late", "0.02", "--duplicates", "0.02", "--bad", "0.01", "--drift-share", "0.2")
	bin := buildCohortline(t)
	proxy := startCHProxy(t, set.clickhouse, set.db)
	opts := runOptions{clickhouse: proxy.addr, restartBackoff: 500 * time.Millisecond,
		retry:           "{max_attempts: 3, initial_backoff: 50ms, max_backoff: 200ms}",
		clickhouseExtra: []string{"read_timeout: 2s", "write_timeout: 1s"}}
	hungConfig := set.writeConfig(t, "hung.yaml", opts)
	opts.clickhouse = ""
	directConfig := set.writeConfig(t, "direct.yaml", opts)

	a := startDaemon(t, bin, hungConfig, filepath.Join(set.dir, "a.log"))
	http := a.httpAddr(t)
	if !waitUntil(60*time.Second, func() bool { return set.flushes(t, "") > 0 }) {
		t.Fatalf("no window flushed in 60s; log:\n%s", a.logTail(20))
	}
	proxy.hang()
	hungAt := time.Now()

	e, seen := a.waitForEntry(t, 20*time.Second, "ClickHouse's failure", func(e map[string]any) bool {
		return e["msg"] == "connection failed; retrying" && e["link"] == "clickhouse"
	})
	t.Logf("ClickHouse hung: failure logged %v later: %v", seen.Sub(hungAt).Round(time.Millisecond), e["err"])
	if e["addr"] != proxy.addr {
		t.Errorf("failure logged with addr %v, want %s", e["addr"], proxy.addr)
	}
	_, restarted := a.waitForEntry(t, 30*time.Second, "a worker restart", func(e map[string]any) bool {
		return e["msg"] == "partition worker failed; restarting from the last commit"
	})
	t.Logf("first worker restart from its commit %v after the hang began", restarted.Sub(hungAt).Round(time.Millisecond))
	if code, body := httpGet(t, "http://"+http+"/readyz"); code != 503 || !strings.HasPrefix(body, "clickhouse: ") {
		t.Errorf("/readyz during the hang: %d %q, want 503 naming clickhouse", code, body)
	}

	joinedAt := time.Now()
	b := startDaemon(t, bin, directConfig, filepath.Join(set.dir, "b.log"))
	split := waitForSplit(t, set.kafka, set.name, set.name, []int{2, 2}, 30*time.Second)
	t.Logf("second instance joined: group stable with %v %v after it started", split, time.Since(joinedAt).Round(time.Millisecond))

	if rest := clickHouseHang - time.Since(hungAt); rest > 0 {
		time.Sleep(rest)
	}
	t.Logf("ClickHouse silent for %v: %d connections held unanswered, %d worker restarts", time.Since(hungAt).Round(time.Millisecond),
		proxy.held.Load(), a.count("partition worker failed; restarting from the last commit", ""))
	proxy.unhang()
	unhungAt := time.Now()
	got, err := waitForPartials(t, set.client(t, ""), set.want, 120*time.Second, a.exit)
	if err != nil {
		t.Fatalf("%v\nlog of the hung instance:\n%s", err, a.logTail(20))
	}
	t.Logf("%d partials equal the reference %v after ClickHouse answered again", len(got), time.Since(unhungAt).Round(time.Millisecond))
	if n := a.count("connection recovered", "clickhouse"); n == 0 {
		t.Errorf("the hung instance never logged ClickHouse's recovery")
	}
	for _, d := range []*daemon{a, b} {
		code, took := d.stopWithin(t, "after the hang", 10*time.Second)
		t.Logf("SIGTERM: exit %d after %v", code, took.Round(time.Millisecond))
		if code != exitOK {
			t.Errorf("exit %d after SIGTERM, want 0; log:\n%s", code, d.logTail(10))
		}
	}
}
