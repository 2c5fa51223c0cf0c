package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
)

var errRefused = fmt.Errorf("dial: %w", syscall.ECONNREFUSED)

func TestRetryStopsOnSuccessOrNonRetryable(t *testing.T) {
	cfg := RetryConfig{MaxAttempts: 5, InitialBackoff: time.Second, MaxBackoff: 4 * time.Second}
	for _, tc := range []struct {
		name     string
		errs     []error // returned by successive calls; nil after
		calls    int
		wantErr  error
		minSleep time.Duration // backoff waits, less their jitter
	}{
		{"success at once", nil, 1, nil, 0},
		{"success after two failures", []error{errRefused, io.EOF}, 3, nil, (1 + 2) * time.Second * 3 / 4},
		{"not retryable", []error{&ch.Exception{Code: 62, Message: "Syntax error"}}, 1, &ch.Exception{}, 0},
		{"budget spent", []error{errRefused, errRefused, errRefused, errRefused, errRefused, errRefused}, 5, syscall.ECONNREFUSED, (1 + 2 + 4 + 4) * time.Second * 3 / 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				calls := 0
				start := time.Now()
				err := retry(t.Context(), cfg, func(context.Context) error {
					calls++
					if calls <= len(tc.errs) {
						return tc.errs[calls-1]
					}
					return nil
				})
				slept := time.Since(start)
				if calls != tc.calls {
					t.Errorf("%d calls, want %d", calls, tc.calls)
				}
				switch want := tc.wantErr.(type) {
				case nil:
					if err != nil {
						t.Errorf("error %v, want nil", err)
					}
				case *ch.Exception:
					if !errors.As(err, &want) {
						t.Errorf("error %v, want the exception", err)
					}
				default:
					if !errors.Is(err, want) || !IsRetryable(err) {
						t.Errorf("error %v: want it to wrap %v and stay retryable", err, want)
					}
				}
				if slept < tc.minSleep || slept > tc.minSleep*4/3+time.Millisecond {
					t.Errorf("waited %s between tries, want the doubling backoff from %s (%s less jitter)", slept, cfg.InitialBackoff, tc.minSleep)
				}
			})
		})
	}
}

func TestRetryHonoursCancelWhileWaiting(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cfg := RetryConfig{MaxAttempts: 100, InitialBackoff: time.Minute, MaxBackoff: time.Hour}
		time.AfterFunc(90*time.Second, cancel) // during the second wait
		start := time.Now()
		calls := 0
		err := retry(ctx, cfg, func(context.Context) error { calls++; return errRefused })
		if !errors.Is(err, context.Canceled) || !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("error %v: want context.Canceled with the last error", err)
		}
		if IsRetryable(err) {
			t.Errorf("IsRetryable(%v) = true: the caller gave up", err)
		}
		if calls != 2 || time.Since(start) != 90*time.Second {
			t.Errorf("%d calls, returned after %s; want 2 calls and a return at the cancel (90s)", calls, time.Since(start))
		}
	})
}

func TestBackoffGrowsToMax(t *testing.T) {
	cfg := RetryConfig{InitialBackoff: 100 * time.Millisecond, MaxBackoff: time.Second}
	for attempt, want := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 4: 800 * time.Millisecond, 5: time.Second, 60: time.Second} {
		for range 20 {
			if got := backoff(cfg, attempt); got > want || got < want*3/4 {
				t.Errorf("backoff after attempt %d = %s, want %s less at most a quarter", attempt, got, want)
			}
		}
	}
}

// TestIsRetryable uses real errors where the server or the network can
// produce them, and built ones for the server states a test cannot cause.
type retryCase struct {
	name string
	err  error
	want bool
}

func TestIsRetryable(t *testing.T) {
	type tc = retryCase
	cases := []tc{
		{"nil", nil, false},
		{"connection reset", fmt.Errorf("read: %w", syscall.ECONNRESET), true},
		{"broken pipe", &os.SyscallError{Syscall: "write", Err: syscall.EPIPE}, true},
		{"i/o timeout", fmt.Errorf("read tcp: %w", os.ErrDeadlineExceeded), true},
		{"closed mid-answer", io.ErrUnexpectedEOF, true},
		{"pool exhausted", ch.ErrAcquireConnTimeout, true},
		{"caller cancelled", context.Canceled, false},
		{"caller's deadline", fmt.Errorf("sending: %w", context.DeadlineExceeded), false},
		{"client-side type mismatch", errors.New("clickhouse [AppendRow]: converting string to UInt64 is unsupported"), false},
	}
	for code, name := range map[int32]string{159: "TIMEOUT_EXCEEDED", 202: "TOO_MANY_SIMULTANEOUS_QUERIES", 209: "SOCKET_TIMEOUT",
		210: "NETWORK_ERROR", 241: "MEMORY_LIMIT_EXCEEDED", 242: "TABLE_IS_READ_ONLY", 252: "TOO_MANY_PARTS", 319: "UNKNOWN_STATUS_OF_INSERT"} {
		cases = append(cases, tc{name, fmt.Errorf("writing: %w", &ch.Exception{Code: code, Name: "DB::Exception"}), true})
	}
	for code, name := range map[int32]string{62: "SYNTAX_ERROR", 60: "UNKNOWN_TABLE", 16: "NO_SUCH_COLUMN_IN_TABLE", 53: "TYPE_MISMATCH", 516: "AUTHENTICATION_FAILED", 164: "READONLY"} {
		cases = append(cases, tc{name, &ch.Exception{Code: code}, false})
	}
	cases = append(cases, realErrors(t)...)
	for _, c := range cases {
		t.Logf("%s: %v", c.name, c.err)
		if got := IsRetryable(c.err); got != c.want {
			t.Errorf("%s: IsRetryable(%v) = %v, want %v", c.name, c.err, got, c.want)
		}
	}
}

// realErrors returns errors from a closed port, from a peer that hangs up,
// and from the real server (when there is one).
func realErrors(t *testing.T) []retryCase {
	type tc = retryCase
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	ping := func(addr string) error {
		c, err := open(Config{Addr: []string{addr}, DialTimeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.conn.Ping(ctx)
	}
	out := []tc{
		{"real: connection refused", ping(closedPort(t)), true},
		{"real: peer hangs up", ping(hangUpServer(t)), true},
	}
	if os.Getenv("COHORTLINE_CLICKHOUSE") == "" {
		return out
	}
	c := openClient(t, testConfig(t))
	out = append(out,
		tc{"real: syntax error", c.conn.Exec(ctx, "SELEC 1"), false},
		tc{"real: unknown table", c.conn.Exec(ctx, "SELECT * FROM system.no_such_table"), false},
		tc{"real: unknown column", c.conn.Exec(ctx, "SELECT no_such_column FROM system.one"), false},
		tc{"real: type mismatch", c.conn.Exec(ctx, "SELECT toDate('not a date')"), false},
	)
	return out
}
