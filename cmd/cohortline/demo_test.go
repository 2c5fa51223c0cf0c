package main

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// Flags the demo cannot run with are usage errors (exit 2) that name the
// flag, before anything is started.
func TestDemoFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--database", "cohortline"}, `--database "cohortline": the demo drops and recreates its databases`},
		{[]string{"--users", "0"}, "--users: 0 is not in"},
		{[]string{"--events", "-1"}, "--events:"},
		{[]string{"--partitions", "0"}, "--partitions: 0 must be at least 1"},
		{[]string{"--top", "0"}, "--top: 0 must be at least 1"},
		{[]string{"--start", "yesterday"}, `demo: --start: "yesterday" is not a time: want 2026-11-01T10:00:00Z, 2026-11-01T10:00 (UTC) or 2026-11-01`},
		{[]string{"--database", "demo-1"}, "database"},
		{[]string{"extra"}, "unknown command"},
	} {
		code, stdout, stderr := runCLI(t, "", append([]string{"demo", "--clickhouse", "127.0.0.1:1"}, tc.args...)...)
		if code != exitUsage || !strings.Contains(stderr, tc.want) || stdout != "" {
			t.Errorf("demo %v: exit %d, stderr %q; want exit %d and %q", tc.args, code, stderr, exitUsage, tc.want)
		}
	}
}

// An unreachable ClickHouse fails the demo at once, with one line that
// names the address and says how to start one.
func TestDemoWithoutClickHouse(t *testing.T) {
	code, stdout, stderr := runCLI(t, "", "demo", "--clickhouse", "127.0.0.1:1", "--users", "100", "--events", "1000")
	lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
	last := lines[len(lines)-1]
	if code != exitFailure || stdout != "" ||
		!strings.HasPrefix(last, "cohortline: ClickHouse at 127.0.0.1:1 is not answering (make demo starts one with deploy/dev/up") ||
		!strings.Contains(last, "connection refused") {
		t.Errorf("exit %d, stdout %q, stderr:\n%s", code, stdout, stderr)
	}
}

func TestProgressOnATerminal(t *testing.T) {
	var buf bytes.Buffer
	p := &progress{w: &buf, tty: true, now: time.Now}
	p.update("produced", "%d of %d", 1, 2)
	p.update("produced", "%d of %d", 2, 2)
	p.done("produced", "all %d", 2)
	p.update("consumed", "half")
	p.abandon()
	want := "\r\033[Kproduced    1 of 2" + "\r\033[Kproduced    2 of 2" + "\r\033[Kproduced    all 2\n" +
		"\r\033[Kconsumed    half\n"
	if got := buf.String(); got != want {
		t.Errorf("terminal output %q, want %q", got, want)
	}
}

// Elsewhere (a CI log, a pipe) a stage prints its final line, and a line
// every plainInterval while it runs; nothing to redraw, nothing to end.
func TestProgressInALog(t *testing.T) {
	var buf bytes.Buffer
	clock := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	p := &progress{w: &buf, now: func() time.Time { return clock }}
	p.update("produced", "0")
	clock = clock.Add(plainInterval - time.Millisecond)
	p.update("produced", "1")
	clock = clock.Add(time.Millisecond)
	p.update("produced", "2")
	clock = clock.Add(time.Second)
	p.update("produced", "3")
	p.done("produced", "done")
	p.update("consumed", "0")
	p.abandon()
	if got, want := buf.String(), "produced    2\nproduced    done\n"; got != want {
		t.Errorf("log output %q, want %q", got, want)
	}
}

func TestCount(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -1000: "-1,000", 100000: "100,000"} {
		if got := count(n); got != want {
			t.Errorf("count(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestOneLine(t *testing.T) {
	err := errors.Join(errors.New("connecting to a:1: refused"), errors.New("connecting to b:1:  refused"))
	if got, want := oneLine(err.Error()), "connecting to a:1: refused; connecting to b:1: refused"; got != want {
		t.Errorf("oneLine = %q, want %q", got, want)
	}
}

// lastWarning keeps the newest warning or error with its err, including
// one given by With, and passes every record on to the next handler.
func TestLastWarning(t *testing.T) {
	var w lastWarning
	var out bytes.Buffer
	log := slog.New(w.wrap(slog.NewTextHandler(&out, nil)))
	log.Info("window flushed", "partition", 1)
	if got := w.String(); got != "" {
		t.Errorf("after an info: %q", got)
	}
	log.Warn("fetch failed; reconnecting", "partition", 2, "err", errors.New("connection refused"))
	if got, want := w.String(), "fetch failed; reconnecting: connection refused"; got != want {
		t.Errorf("after a warning: %q, want %q", got, want)
	}
	log.With("err", "sink down").Error("partition worker failed")
	if got, want := w.String(), "partition worker failed: sink down"; got != want {
		t.Errorf("after an error: %q, want %q", got, want)
	}
	if n := strings.Count(out.String(), "\n"); n != 3 {
		t.Errorf("the next handler got %d records, want 3:\n%s", n, out.String())
	}
	quiet := slog.New(w.wrap(slog.DiscardHandler))
	quiet.Warn("sink retry", "err", "timeout")
	if got := w.String(); got != "sink retry: timeout" {
		t.Errorf("with a discarding handler: %q", got)
	}
}
