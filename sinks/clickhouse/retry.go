package clickhouse

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"syscall"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
)

// retryableCodes are the ClickHouse exception codes of a server that is
// overloaded, restarting, or cut off from its peers: the same statement can
// succeed later. Everything else (syntax, unknown table or column, type
// mismatch, access denied …) fails the same way however often it is tried.
var retryableCodes = map[int32]string{
	3:   "UNEXPECTED_END_OF_FILE",
	32:  "ATTEMPT_TO_READ_AFTER_EOF",
	159: "TIMEOUT_EXCEEDED",
	202: "TOO_MANY_SIMULTANEOUS_QUERIES",
	203: "NO_FREE_CONNECTION",
	209: "SOCKET_TIMEOUT",
	210: "NETWORK_ERROR",
	225: "NO_ZOOKEEPER",
	241: "MEMORY_LIMIT_EXCEEDED",
	242: "TABLE_IS_READ_ONLY", // a replica while ZooKeeper is away
	244: "UNEXPECTED_ZOOKEEPER_ERROR",
	252: "TOO_MANY_PARTS",
	285: "TOO_FEW_LIVE_REPLICAS",
	286: "UNSATISFIED_QUORUM_FOR_PREVIOUS_WRITE",
	319: "UNKNOWN_STATUS_OF_INSERT",
	425: "SYSTEM_ERROR",
	439: "CANNOT_SCHEDULE_TASK",
	999: "KEEPER_EXCEPTION",
}

// IsRetryable reports whether the operation that returned err may succeed if
// tried again unchanged: network failures (refused, reset, closed, timed out),
// and ClickHouse exceptions whose code means overload or a passing outage
// (retryableCodes). A cancelled or expired context of the caller is not
// retryable: the caller gave up.
func IsRetryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	if ex := (*ch.Exception)(nil); errors.As(err, &ex) {
		_, ok := retryableCodes[ex.Code]
		return ok
	}
	var netErr net.Error
	switch {
	case errors.As(err, &netErr): // dial and I/O errors, timeouts included
		return true
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.ECONNABORTED),
		errors.Is(err, os.ErrDeadlineExceeded),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, driver.ErrBadConn),
		errors.Is(err, ch.ErrAcquireConnTimeout), errors.Is(err, ch.ErrConnectionClosed):
		return true
	}
	return false
}

// retry runs op until it succeeds, fails with an error that is not
// retryable, has been tried cfg.MaxAttempts times, or ctx ends. It waits
// between tries, honouring ctx. The error keeps op's last error in its
// chain, so IsRetryable still answers for it.
func retry(ctx context.Context, cfg RetryConfig, op func(context.Context) error) error {
	var err error
	for attempt := 1; ; attempt++ {
		if err = op(ctx); err == nil {
			if cfg.Observe != nil {
				cfg.Observe(nil)
			}
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%w (attempt %d: %w)", ctx.Err(), attempt, err)
		}
		if !IsRetryable(err) {
			return err
		}
		if cfg.Observe != nil {
			cfg.Observe(err)
		}
		if attempt >= cfg.MaxAttempts {
			return fmt.Errorf("gave up after %d attempts: %w", attempt, err)
		}
		if cfg.OnRetry != nil {
			cfg.OnRetry()
		}
		timer := time.NewTimer(backoff(cfg, attempt))
		select {
		case <-ctx.Done():
			timer.Stop()
			return fmt.Errorf("%w while waiting to retry (after %d attempts: %w)", ctx.Err(), attempt, err)
		case <-timer.C:
		}
	}
}

// backoff is the wait after the given failed attempt (1-based): doubling from
// InitialBackoff, at most MaxBackoff, minus up to a quarter at random so
// that many partition workers hitting one outage do not retry in step.
func backoff(cfg RetryConfig, attempt int) time.Duration {
	d := cfg.InitialBackoff
	for i := 1; i < attempt && d < cfg.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, cfg.MaxBackoff)
	if d <= 0 {
		return 0
	}
	return d - rand.N(d/4+1)
}

// queryRows runs q with args and returns what row makes of each result
// row (row gets the rows' Scan), retrying retryable errors: every attempt
// starts over. It is the one query loop of the package.
func queryRows[T any](ctx context.Context, c *Client, row func(scan func(dest ...any) error) (T, error), q string, args ...any) ([]T, error) {
	var out []T
	err := retry(ctx, c.cfg.Retry, func(ctx context.Context) error {
		out = out[:0]
		rows, err := c.conn.Query(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			v, err := row(rows.Scan)
			if err != nil {
				return err
			}
			out = append(out, v)
		}
		return rows.Err()
	})
	return out, err
}

// queryPairs runs q, which selects two columns, and returns its rows as a
// map from the first column to the second, retrying retryable errors.
func queryPairs[K comparable, V any](ctx context.Context, c *Client, q string, args ...any) (map[K]V, error) {
	type pair struct {
		k K
		v V
	}
	rows, err := queryRows(ctx, c, func(scan func(...any) error) (pair, error) {
		var p pair
		return p, scan(&p.k, &p.v)
	}, q, args...)
	if err != nil {
		return nil, err
	}
	out := make(map[K]V, len(rows))
	for _, p := range rows {
		out[p.k] = p.v
	}
	return out, nil
}

// queryValues runs q, which selects one column, and returns its values,
// retrying retryable errors.
func queryValues[T any](ctx context.Context, c *Client, q string, args ...any) ([]T, error) {
	return queryRows(ctx, c, func(scan func(...any) error) (T, error) {
		var v T
		err := scan(&v)
		return v, err
	}, q, args...)
}
