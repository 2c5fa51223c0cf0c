package clickhouse

import (
	"testing"
	"time"
)

// TestWritePartialsRidesOutAnOutage: the server goes away (every connection
// cut, new ones refused) while the pipeline flushes; the write retries
// until the server is back, and then the flush is stored, once.
func TestWritePartialsRidesOutAnOutage(t *testing.T) {
	c, p := clientBehindProxy(t)
	w := c.Writer()
	first := progressOf(window, "activity", 0, 1, 0)
	write(t, w, first, []partial{{cohort: 1, users: 2, events: 2, values: []uint64{2}}})

	p.stop()
	restarted := make(chan struct{})
	time.AfterFunc(300*time.Millisecond, func() { p.start(); close(restarted) })
	during := progressOf(window, "activity", 1, 1, 0)
	write(t, w, during, []partial{{cohort: 1, users: 3, events: 3, values: []uint64{3}}})
	<-restarted

	got, err := c.CurrentPartials(t.Context(), window, window.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Users != 5 || got[0].Values[0] != 5 {
		t.Errorf("after the outage: %+v, want cohort 1 with 5 users from both flushes", got)
	}
}

// clientBehindProxy returns a client of a migrated database that reaches
// the server through a proxy the test can stop and start (an outage), and
// retries for as long as the test runs.
func clientBehindProxy(t *testing.T) (*Client, *proxy) {
	t.Helper()
	cfg := testConfig(t)
	migratedClient(t, cfg) // migrated directly, dropped at cleanup
	p := startProxy(t, cfg.Addr[0])
	cfg.Addr = []string{p.addr}
	cfg.Retry = RetryConfig{MaxAttempts: 1 << 20, InitialBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond}
	c, err := Open(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, p
}
