package ops

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// logLines decodes the JSON lines of buf into their msg fields.
func logLines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

// One line at the first failure, none for the same cause until the summary
// interval, one when the cause changes, one at recovery; /readyz names
// the link, the cause, since when and how many attempts.
func TestLinksLogByClassNotByAttempt(t *testing.T) {
	var buf bytes.Buffer
	l := NewLinks(slog.New(slog.NewJSONHandler(&buf, nil)))
	now := time.Date(2026, 12, 4, 3, 0, 0, 0, time.UTC)
	l.now = func() time.Time { return now }
	var failures int
	l.OnFailure = func(string, string, error) { failures++ }

	dial := fmt.Errorf("dial tcp 127.0.0.1:1: %w", syscall.ECONNREFUSED)
	for i := range 7 {
		l.Failed("kafka", "127.0.0.1:1", fmt.Errorf("partition %d: %w", i, dial))
		now = now.Add(2 * time.Second)
	}
	if got := logLines(t, &buf); len(got) != 1 || got[0]["msg"] != "connection failed; retrying" || got[0]["addr"] != "127.0.0.1:1" {
		t.Fatalf("after 7 failures of one cause in 14s: %v, want the first failure only", got)
	}
	ready := &Readiness{}
	ready.SetMigrated()
	ready.SetLinks(l)
	code, body := get(t, Handler(prometheus.NewRegistry(), ready), "/readyz")
	if want := "kafka: partition 6: dial tcp 127.0.0.1:1: connection refused (since 14s, 7 attempts)"; code != 503 || body != want {
		t.Errorf("/readyz %d %q, want 503 %q", code, body, want)
	}

	now = now.Add(20 * time.Second) // 30s after the last line
	l.Failed("kafka", "127.0.0.1:1", dial)
	l.Failed("kafka", "127.0.0.1:1", fmt.Errorf("dial tcp: lookup kafka.invalid: %w", errors.New("no such host")))
	l.Failed("clickhouse", "127.0.0.1:9000", syscall.ECONNRESET)
	now = now.Add(time.Second)
	l.Recovered("kafka")
	l.Recovered("kafka") // not failing any more: nothing
	var msgs []string
	for _, m := range logLines(t, &buf)[1:] {
		msgs = append(msgs, fmt.Sprintf("%s %s attempts=%v", m["link"], m["msg"], m["attempts"]))
	}
	want := []string{
		"kafka connection still failing attempts=8",
		"kafka connection still failing, with another cause attempts=9",
		"clickhouse connection failed; retrying attempts=1",
		"kafka connection recovered attempts=9",
	}
	if strings.Join(msgs, "\n") != strings.Join(want, "\n") {
		t.Errorf("log lines:\n%s\nwant:\n%s", strings.Join(msgs, "\n"), strings.Join(want, "\n"))
	}
	if failures != 10 {
		t.Errorf("OnFailure called %d times, want once per failure (10)", failures)
	}
	if p := l.Problems(); len(p) != 1 || !strings.HasPrefix(p[0], "clickhouse: connection reset by peer (since 1s, 1 attempts)") {
		t.Errorf("problems %q, want only clickhouse's", p)
	}
}

// Retry reports every failure, stops at success with a recovery, and
// returns at once when its context ends.
func TestLinksRetry(t *testing.T) {
	var buf bytes.Buffer
	l := NewLinks(slog.New(slog.NewJSONHandler(&buf, nil)))
	tries := 0
	err := l.Retry(t.Context(), "clickhouse", "127.0.0.1:9000", Backoff{Initial: time.Millisecond, Max: 4 * time.Millisecond}, nil,
		func(context.Context) error {
			if tries++; tries < 4 {
				return syscall.ECONNREFUSED
			}
			return nil
		})
	if err != nil || tries != 4 || len(l.Problems()) != 0 {
		t.Fatalf("Retry: %v after %d tries, problems %q; want nil after 4 and none", err, tries, l.Problems())
	}
	if lines := logLines(t, &buf); len(lines) != 2 || lines[1]["msg"] != "connection recovered" {
		t.Errorf("log %v, want the first failure and the recovery", lines)
	}

	permanent := errors.New("authentication failed")
	tries = 0
	err = l.Retry(t.Context(), "clickhouse", "127.0.0.1:9000", Backoff{Initial: time.Millisecond, Max: time.Millisecond},
		func(err error) bool { return err != permanent }, func(context.Context) error { tries++; return permanent })
	if err != permanent || tries != 1 {
		t.Errorf("Retry of a permanent error: %v after %d tries, want it back after 1", err, tries)
	}

	ctx, cancel := context.WithCancel(t.Context())
	began := time.Now()
	time.AfterFunc(50*time.Millisecond, cancel)
	err = l.Retry(ctx, "kafka", "kafka.invalid:9092", Backoff{Initial: time.Hour, Max: time.Hour}, nil,
		func(context.Context) error { return errors.New("no such host") })
	if err == nil || !errors.Is(err, context.Canceled) || time.Since(began) > 5*time.Second {
		t.Errorf("Retry after cancel: %v in %v, want context.Canceled at once", err, time.Since(began))
	}
}

func TestBackoffDoublesToMax(t *testing.T) {
	b := Backoff{Initial: 500 * time.Millisecond, Max: 5 * time.Second}
	var got []time.Duration
	for n := 1; n <= 6; n++ {
		got = append(got, b.Wait(n))
	}
	want := []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("waits %v, want %v", got, want)
	}
}
