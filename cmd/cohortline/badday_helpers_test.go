package main

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Helpers of the bad-day tests (issue 17): a daemon's JSON log read as
// entries, the address its HTTP server took, and a broker that accepts
// connections and never answers.

// logEntries returns the daemon's JSON log lines decoded; lines that are
// not JSON (the one-line error at exit) are left out.
func (d *daemon) logEntries() []map[string]any {
	b, _ := os.ReadFile(d.log)
	var out []map[string]any
	for line := range strings.Lines(string(b)) {
		var e map[string]any
		if json.Unmarshal([]byte(line), &e) == nil {
			out = append(out, e)
		}
	}
	return out
}

// waitForEntry waits up to timeout for a log entry that match accepts
// and returns it and when it was seen; it fails the test when the daemon
// exits first or the timeout passes.
func (d *daemon) waitForEntry(t *testing.T, timeout time.Duration, what string, match func(map[string]any) bool) (map[string]any, time.Time) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		for _, e := range d.logEntries() {
			if match(e) {
				return e, time.Now()
			}
		}
		select {
		case <-d.done:
			t.Fatalf("cohortline exited %d before logging %s; log:\n%s", d.cmd.ProcessState.ExitCode(), what, d.logTail(20))
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s logged in %v; log:\n%s", what, timeout, d.logTail(20))
		}
	}
}

// httpAddr is where the daemon serves /metrics and the probes (its
// config listens on port 0).
func (d *daemon) httpAddr(t *testing.T) string {
	t.Helper()
	e, _ := d.waitForEntry(t, 30*time.Second, "the http server's address", func(e map[string]any) bool {
		return e["msg"] == "http: serving /metrics, /healthz, /readyz"
	})
	return e["addr"].(string)
}

// count counts the log entries with msg and link (any link when "").
func (d *daemon) count(msg, link string) int {
	n := 0
	for _, e := range d.logEntries() {
		if e["msg"] == msg && (link == "" || e["link"] == link) {
			n++
		}
	}
	return n
}

// stopWithin sends SIGTERM and waits up to hangAfter for the exit, failing
// the test as hung after that; it returns the exit code and how long the
// exit took.
func (d *daemon) stopWithin(t *testing.T, state string, hangAfter time.Duration) (int, time.Duration) {
	t.Helper()
	code, took, ok := d.stop(hangAfter)
	if !ok {
		t.Fatalf("%s: still running %v after SIGTERM; log:\n%s", state, hangAfter, d.logTail(20))
	}
	return code, took
}

// silentBroker listens on a loopback port, accepts every connection and
// never answers: a broker stuck on its disk, or a firewall that lets the
// handshake through. Connections close at cleanup.
func silentBroker(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().String()
}

// closedPort returns a loopback address where nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// minimalConfig writes a run config for a topic that needs no data: the
// tests that only start, fail and stop.
func minimalConfig(t *testing.T, dir, brokers, topic, clickhouse, db string) string {
	t.Helper()
	path := filepath.Join(dir, "run.yaml")
	writeTestFile(t, path, fmt.Sprintf(`mode: development
kafka:
  brokers: [%s]
  topic: %s
  group: %s
clickhouse:
  addr: [%s]
  database: %s
  published_database: %s_published
http:
  listen: 127.0.0.1:0
publish: {auto: false}
`, brokers, topic, topic, clickhouse, db, db))
	return path
}
