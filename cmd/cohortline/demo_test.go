package main

import (
	"errors"
	"strings"
	"testing"
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

func TestOneLine(t *testing.T) {
	err := errors.Join(errors.New("connecting to a:1: refused"), errors.New("connecting to b:1:  refused"))
	if got, want := oneLine(err.Error()), "connecting to a:1: refused; connecting to b:1: refused"; got != want {
		t.Errorf("oneLine = %q, want %q", got, want)
	}
}
