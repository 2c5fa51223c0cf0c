package clickhouse

import (
	"context"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
)

// OnRetry is called once per retry: not for the first try, not after the
// last one, not for an error that is not retryable.
func TestRetryCallsOnRetryOncePerRetry(t *testing.T) {
	for _, tc := range []struct {
		name    string
		errs    []error
		retries int64
	}{
		{"success at once", nil, 0},
		{"success after two failures", []error{errRefused, errRefused}, 2},
		{"not retryable", []error{&ch.Exception{Code: 62, Message: "Syntax error"}}, 0},
		{"budget spent", []error{errRefused, errRefused, errRefused, errRefused}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var retries atomic.Int64
				cfg := RetryConfig{MaxAttempts: 3, InitialBackoff: time.Second, MaxBackoff: time.Second, OnRetry: func() { retries.Add(1) }}
				calls := 0
				_ = retry(t.Context(), cfg, func(context.Context) error {
					calls++
					if calls <= len(tc.errs) {
						return tc.errs[calls-1]
					}
					return nil
				})
				if got := retries.Load(); got != tc.retries {
					t.Errorf("OnRetry called %d times, want %d", got, tc.retries)
				}
			})
		})
	}
}
