package clickhouse

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// leaseConfig is a lease of holder with a short settle, for tests.
func leaseConfig(holder string) LeaseConfig {
	return LeaseConfig{Holder: holder, TTL: time.Minute, Settle: 20 * time.Millisecond}
}

func acquire(t *testing.T, c *Client, cfg LeaseConfig) *Lease {
	t.Helper()
	l, err := c.AcquireLease(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Release(context.WithoutCancel(t.Context())) })
	return l
}

// TestLeaseOnePublisherAtATime: while one holds the lease, a second
// acquirer fails at once naming the holder and its expiry, or waits and
// gets the next token once the first releases it.
func TestLeaseOnePublisherAtATime(t *testing.T) {
	c := migratedClient(t, testConfig(t))
	ctx := t.Context()
	if cur, err := c.CurrentLease(ctx); err != nil || cur.Token != 0 {
		t.Fatalf("a fresh database's lease: %+v, %v; want none", cur, err)
	}
	a := acquire(t, c, leaseConfig("publish@host-a:1:aaaa"))
	if a.Token() != 1 || a.Check(ctx) != nil {
		t.Fatalf("first lease: token %d, check %v; want token 1, held", a.Token(), a.Check(ctx))
	}

	_, err := c.AcquireLease(ctx, leaseConfig("backfill@host-b:2:bbbb"))
	if !errors.Is(err, ErrLeaseHeld) || !strings.Contains(err.Error(), "publish@host-a:1:aaaa (token 1, acquired ") || !strings.Contains(err.Error(), "expires ") {
		t.Errorf("second acquirer, no wait: %v; want ErrLeaseHeld naming the holder, token and expiry", err)
	}

	wait := leaseConfig("backfill@host-b:2:bbbb")
	wait.Wait = 20 * time.Second
	got := make(chan *Lease, 1)
	go func() {
		l, err := c.AcquireLease(ctx, wait)
		if err != nil {
			t.Error(err)
		}
		got <- l
	}()
	time.Sleep(1500 * time.Millisecond) // the waiter polls every second meanwhile
	select {
	case <-got:
		t.Fatal("the second acquirer got the lease while the first held it")
	default:
	}
	if err := a.Release(ctx); err != nil {
		t.Fatal(err)
	}
	b := <-got
	if b == nil {
		t.FailNow()
	}
	defer b.Release(ctx)
	if b.Token() != 2 || b.Check(ctx) != nil {
		t.Errorf("waiter's lease: token %d, check %v; want token 2, held", b.Token(), b.Check(ctx))
	}
	if err := a.Check(ctx); !errors.Is(err, ErrLeaseLost) {
		t.Errorf("the released lease checks %v; want ErrLeaseLost", err)
	}
}

// TestLeaseExpiredIsTakenOver: a holder that stopped renewing (killed, or
// stalled past the TTL) does not block the next one, whose token fences
// the old holder out.
func TestLeaseExpiredIsTakenOver(t *testing.T) {
	c := migratedClient(t, testConfig(t))
	ctx := t.Context()
	t0 := time.Now()
	cfgA := leaseConfig("run@host-a:1:aaaa")
	cfgA.Now = func() time.Time { return t0 }
	a := acquire(t, c, cfgA)

	cfgB := leaseConfig("publish@host-b:2:bbbb")
	cfgB.Now = func() time.Time { return t0.Add(cfgA.TTL + time.Second) } // after a's expiry
	b := acquire(t, c, cfgB)
	if b.Token() != a.Token()+1 {
		t.Errorf("takeover token %d, want %d", b.Token(), a.Token()+1)
	}
	err := a.Check(ctx)
	if !errors.Is(err, ErrLeaseLost) || !strings.Contains(err.Error(), "publish@host-b:2:bbbb (token 2") {
		t.Errorf("the expired holder's check: %v; want ErrLeaseLost naming the new holder", err)
	}
	if err := b.Check(ctx); err != nil {
		t.Errorf("the new holder's check: %v", err)
	}
}

// TestLeaseTieGreaterHolderWins: a rival claim of the same token that
// arrives late (after the settle wait) wins if its holder is greater, for
// every reader: the first holder's next check fails.
func TestLeaseTieGreaterHolderWins(t *testing.T) {
	c := migratedClient(t, testConfig(t))
	ctx := t.Context()
	a := acquire(t, c, leaseConfig("publish@host-a:1:aaaa"))
	rival := &Lease{c: c, cfg: leaseConfig("publish@host-z:9:zzzz"), token: a.Token(), acquired: time.Now().UTC().Truncate(time.Second)}
	rival.cfg.setDefaults()
	if err := rival.write(ctx, time.Now(), false); err != nil {
		t.Fatal(err)
	}
	if err := a.Check(ctx); !errors.Is(err, ErrLeaseLost) || !strings.Contains(err.Error(), "publish@host-z:9:zzzz") {
		t.Errorf("check after a greater holder's claim of token %d: %v; want ErrLeaseLost naming it", a.Token(), err)
	}
	if cur, err := c.CurrentLease(ctx); err != nil || cur.Holder != "publish@host-z:9:zzzz" {
		t.Errorf("current lease %+v, %v; want the greater holder", cur, err)
	}
}

// TestLeaseRenews: the holder keeps its lease past the TTL by renewing.
func TestLeaseRenews(t *testing.T) {
	c := migratedClient(t, testConfig(t))
	cfg := leaseConfig("publish@host-a:1:aaaa")
	cfg.TTL = 3 * time.Second // renewed every second
	a := acquire(t, c, cfg)
	first, err := c.CurrentLease(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(4 * time.Second)
	if err := a.Check(t.Context()); err != nil {
		t.Errorf("check after 4s of a 3s lease: %v; the renewals should have kept it", err)
	}
	if cur, _ := c.CurrentLease(t.Context()); !cur.ExpiresAt.After(first.ExpiresAt) {
		t.Errorf("expiry %s not moved on from %s", cur.ExpiresAt, first.ExpiresAt)
	}
}

// takeover is a Fence that lets another publisher take the lease over
// right before it asks the first holder's lease: a stall past the TTL at
// the worst moment, just before a swap.
type takeover struct {
	t     *testing.T
	c     *Client
	mine  *Lease
	after LeaseConfig
	taken *Lease
}

func (f *takeover) Check(ctx context.Context) error {
	if f.taken == nil {
		f.taken = acquire(f.t, f.c, f.after)
	}
	return f.mine.Check(ctx)
}

// TestLeaseFencesTheSwap (issue 12, finding 7): a publisher whose lease
// is taken over between filling the staging table and the REPLACE
// PARTITION swap stops before the swap: the day stays as it was, staging
// is dropped, the error names the new holder.
func TestLeaseFencesTheSwap(t *testing.T) {
	c := migratedClient(t, testConfig(t))
	ctx := t.Context()
	w0, w1 := window, window.Add(time.Hour)
	pub := w1.Add(time.Hour)
	before := []EnrichmentRow{enrichment(w0, 1, "c1", 60, pub), enrichment(w0, 2, "c2", 61, pub), enrichment(w1, 3, "c3", 70, pub)}
	publishRows(t, c, before)

	t0 := time.Now()
	cfgA := leaseConfig("publish@host-a:1:aaaa")
	cfgA.Now = func() time.Time { return t0 }
	a := acquire(t, c, cfgA)
	cfgB := leaseConfig("run@host-b:2:bbbb")
	cfgB.Now = func() time.Time { return t0.Add(cfgA.TTL + time.Second) }
	fence := &takeover{t: t, c: c, mine: a, after: cfgB}

	replacement := []EnrichmentRow{enrichment(w0, 1, "c1", 90, pub.Add(time.Hour))}
	err := c.ReplaceEnrichmentWindow(ctx, w0, w0.Add(time.Hour), replacement, fence)
	if !errors.Is(err, ErrLeaseLost) || !strings.Contains(err.Error(), "stopped before swapping") || !strings.Contains(err.Error(), "run@host-b:2:bbbb") {
		t.Fatalf("replace after a takeover: %v; want a stop before the swap naming the new holder", err)
	}
	if fence.taken == nil {
		t.Fatal("the fence was never checked")
	}
	if got := storedEnrichment(t, c, windowIs(w0)); !reflect.DeepEqual(got, before[:2]) {
		t.Errorf("w0 after the fenced replace holds\n%+v\nwant as before\n%+v", got, before[:2])
	}
	assertTables(t, c, "after the fenced replace")

	// The new holder's swap goes through.
	if err := c.ReplaceEnrichmentWindow(ctx, w0, w0.Add(time.Hour), replacement, fence.taken); err != nil {
		t.Fatal(err)
	}
	if got := storedEnrichment(t, c, windowIs(w0)); !reflect.DeepEqual(got, replacement) {
		t.Errorf("w0 after the holder's replace holds\n%+v\nwant\n%+v", got, replacement)
	}
}

func TestLeaseConfigRefused(t *testing.T) {
	c, err := open(Config{}) // does not connect: the config is refused first
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, cfg := range []LeaseConfig{{}, {Holder: "a\nb"}, {Holder: "a", TTL: time.Second}, {Holder: "a", Wait: -1}} {
		if _, err := c.AcquireLease(t.Context(), cfg); err == nil || !strings.Contains(err.Error(), "lease") {
			t.Errorf("AcquireLease(%+v) = %v, want a refusal", cfg, err)
		}
	}
}
