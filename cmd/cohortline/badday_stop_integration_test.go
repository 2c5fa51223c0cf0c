package main

import (
	"fmt"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestRunStopsInEveryState sends SIGTERM to the built binary in each state
// an operator can meet, and requires it to exit 0 (a clean stop, not the
// 1.5s backstop of main) before a 10s hang detector; the log shows each
// measured time. Before issue 17, SIGTERM while joining a group took 17s.
//
//   - joining: Kafka accepts connections and never answers;
//   - joining a rebalance: the group's other member is frozen (SIGSTOP),
//     so the coordinator holds this member's JoinGroup until the frozen
//     one's session times out; kafka-go's Close cannot cut that short;
//   - reading: mid-stream, windows being read and flushed;
//   - flushing: a partials INSERT held on the wire before ClickHouse got it;
//   - clickhouse down: connections refused mid-stream;
//   - clickhouse hung: ClickHouse accepted and went silent mid-stream.
func TestRunStopsInEveryState(t *testing.T) {
	set := newFaultSet(t, "stop", "--seed", "47", "--users", "3000", "--events", "60000", "--span", "4h",
		"--late", "0.02", "--duplicates", "0.02", "--bad", "0.01")
	bin := buildCohortline(t)
	type state struct {
		name string
		// before, when set, runs before the daemon starts, with its config.
		before func(t *testing.T, config string)
		// reach brings the daemon into the state; d is running.
		reach func(t *testing.T, d *daemon, db string, proxy *chProxy)
	}
	firstFlush := func(t *testing.T, d *daemon, db string) {
		t.Helper()
		if !waitUntil(60*time.Second, func() bool { return set.flushes(t, db) > 0 }) {
			t.Fatalf("no window flushed in 60s; log:\n%s", d.logTail(20))
		}
	}
	states := []state{
		{"joining a silent broker", nil, func(t *testing.T, d *daemon, _ string, _ *chProxy) { time.Sleep(3 * time.Second) }},
		{"joining a rebalance", func(t *testing.T, config string) {
			other := startDaemon(t, bin, config, filepath.Join(t.TempDir(), "other.log"))
			other.waitForEntry(t, 60*time.Second, "an assignment", func(e map[string]any) bool {
				return e["msg"] == "consumer group: partitions assigned"
			})
			other.cmd.Process.Signal(syscall.SIGSTOP)
			t.Cleanup(func() { other.cmd.Process.Signal(syscall.SIGCONT) }) // before its kill, registered earlier
		}, func(t *testing.T, d *daemon, _ string, _ *chProxy) {
			d.waitForEntry(t, 30*time.Second, "consuming", func(e map[string]any) bool { return e["msg"] == "consuming" })
			time.Sleep(2 * time.Second) // its JoinGroup is at the coordinator, waiting for the frozen member
			if n := len(d.logEntries()); d.count("consumer group: partitions assigned", "") > 0 {
				t.Fatalf("joined already (%d log lines): the state was not reached", n)
			}
		}},
		{"reading", nil, func(t *testing.T, d *daemon, db string, _ *chProxy) { firstFlush(t, d, db) }},
		{"flushing", nil, func(t *testing.T, d *daemon, db string, proxy *chProxy) {
			held := make(chan struct{}, 1)
			release := make(chan struct{})
			t.Cleanup(func() { close(release) })
			proxy.setHook(func(ev proxyEvent) bool {
				if ev.Table == "cohort_partials" && ev.Phase == insertSent {
					select {
					case held <- struct{}{}:
					default:
					}
					<-release
					return false
				}
				return true
			})
			select {
			case <-held:
			case <-time.After(60 * time.Second):
				t.Fatalf("no partials INSERT in 60s; log:\n%s", d.logTail(20))
			}
		}},
		{"clickhouse down", nil, func(t *testing.T, d *daemon, db string, proxy *chProxy) {
			firstFlush(t, d, db)
			proxy.cut()
			time.Sleep(2 * time.Second)
		}},
		{"clickhouse hung", nil, func(t *testing.T, d *daemon, db string, proxy *chProxy) {
			firstFlush(t, d, db)
			proxy.hang()
			time.Sleep(3 * time.Second)
		}},
	}
	results := map[string]time.Duration{}
	for i, s := range states {
		t.Run(s.name, func(t *testing.T) {
			db := fmt.Sprintf("%s_s%d", set.db, i)
			t.Cleanup(func() { dropDatabases(t, set.clickhouse, db, db+"_published") })
			proxy := startCHProxy(t, set.clickhouse, db)
			config := set.writeConfig(t, fmt.Sprintf("stop%d.yaml", i), runOptions{group: fmt.Sprintf("%s-s%d", set.name, i),
				database: db, clickhouse: proxy.addr})
			if i == 0 {
				config = minimalConfig(t, t.TempDir(), silentBroker(t), set.name, set.clickhouse, db)
			}
			if s.before != nil {
				s.before(t, config)
			}
			d := startDaemon(t, bin, config, filepath.Join(t.TempDir(), "run.log"))
			s.reach(t, d, db, proxy)
			code, took := d.stopWithin(t, s.name, 10*time.Second)
			results[s.name] = took
			t.Logf("%s: exit %d %v after SIGTERM", s.name, code, took.Round(time.Millisecond))
			if code != exitOK {
				t.Errorf("%s: exit %d after SIGTERM, want 0 (a clean stop); log:\n%s", s.name, code, d.logTail(10))
			}
		})
	}
	for _, s := range states {
		t.Logf("SIGTERM to exit, %s: %v", s.name, results[s.name].Round(time.Millisecond))
	}
}
