package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"sync/atomic"
	"time"
)

// The publish lease (DESIGN.md, privacy invariant 5: one publisher at a
// time), a log of claims in publish_lease (DDL 0011). ClickHouse 18.16
// has no transactions and no compare-and-set, so a claim is an insert
// read back:
//
//  1. read the current lease: the highest token; of its rows the greatest
//     holder; of that holder's rows the highest seq. If it is held (not
//     released, not expired), wait and read again, up to LeaseConfig.Wait;
//  2. insert a claim: token = current + 1, seq 0, expiring after the TTL;
//  3. wait LeaseConfig.Settle, then read the current lease again: the
//     claim holds only if it is current. Two publishers that both read
//     token T in step 1 both claim T+1; the greater holder wins for every
//     reader, and the settle wait lets the loser's claim arrive before the
//     winner starts;
//  4. while held, renew every TTL/3 (a row with the next seq and a later
//     expiry); Release writes a row marked released.
//
// Before every write that publishes, the holder calls Check: the lease
// must still be current, its own, and not within a quarter of the TTL of
// expiring. The token is the fencing token: a publisher whose lease
// expired (it stalled past the TTL) or lost a late tie finds another
// token or holder current and stops.
//
// The race window, honestly: ClickHouse cannot refuse a stale holder's
// insert, so fencing is checked by the writer, not enforced by the
// server. Two publishers can still overlap (a) when a claim's insert
// reaches the server more than Settle after the competing claim (both
// hold until the loser's next Check, one write later at most), and (b)
// when a holder stalls for longer than a quarter of the TTL between a
// Check and the write after it, with its lease expiring and taken over
// meanwhile. In either case one write of the stale publisher can land
// after the new one started: a ledger row booked against a budget the
// other read a moment before, or a REPLACE PARTITION swap that drops the
// other's rows of the same day (ReplaceEnrichmentWindow checks again
// after the swap and says so). Hosts' clocks must agree to well within
// the TTL: expiry is judged by the reader's clock. In cluster mode the
// table is replicated asynchronously; publishers should talk to one node.

// Defaults of LeaseConfig.
const (
	DefaultLeaseTTL    = 2 * time.Minute
	DefaultLeaseSettle = time.Second
	leasePoll          = time.Second // how often a waiting acquirer looks again
)

// ErrLeaseHeld is wrapped by AcquireLease's error when another publisher
// held the lease for all of LeaseConfig.Wait.
var ErrLeaseHeld = errors.New("the publish lease is held by another publisher")

// ErrLeaseLost is wrapped by Check's error once the lease is no longer
// this holder's: taken over, expired or released.
var ErrLeaseLost = errors.New("the publish lease is no longer this publisher's")

// LeaseConfig says who takes the lease and for how long.
type LeaseConfig struct {
	// Holder names the publisher, e.g. "publish@host:pid:random": unique
	// per acquirer (it breaks ties) and never a secret. Required.
	Holder string
	TTL    time.Duration // default DefaultLeaseTTL; at least 3s
	// Wait is how long AcquireLease waits while another holds the lease;
	// 0 fails at once.
	Wait   time.Duration
	Settle time.Duration    // default DefaultLeaseSettle
	Now    func() time.Time // the clock of acquired_at and expires_at; default time.Now
}

func (c *LeaseConfig) setDefaults() {
	if c.TTL == 0 {
		c.TTL = DefaultLeaseTTL
	}
	if c.Settle == 0 {
		c.Settle = DefaultLeaseSettle
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

func (c LeaseConfig) check() error {
	switch {
	case c.Holder == "" || len(c.Holder) > 200 || strings.ContainsAny(c.Holder, "\n\r\t"):
		return fmt.Errorf("lease holder %q: want a one-line name of up to 200 bytes", c.Holder)
	case c.TTL != 0 && c.TTL < 3*time.Second:
		return fmt.Errorf("lease TTL %s: want at least 3s (stored to the second, renewed every third)", c.TTL)
	case c.Wait < 0 || c.Settle < 0:
		return fmt.Errorf("lease wait %s, settle %s: want durations of at least 0", c.Wait, c.Settle)
	}
	return nil
}

// LeaseState is the current lease as publish_lease says.
type LeaseState struct {
	Token                 uint64 // 0: never taken
	Holder                string
	AcquiredAt, ExpiresAt time.Time
	Released              bool
}

// free reports whether the lease may be taken at now.
func (s LeaseState) free(now time.Time) bool {
	return s.Token == 0 || s.Released || !now.Before(s.ExpiresAt)
}

func (s LeaseState) String() string {
	return fmt.Sprintf("%s (token %d, acquired %s, expires %s)", s.Holder, s.Token,
		s.AcquiredAt.Format(time.RFC3339), s.ExpiresAt.Format(time.RFC3339))
}

// Lease is a held publish lease. Check and Token are safe for concurrent
// use; Release ends it.
type Lease struct {
	c        *Client
	cfg      LeaseConfig
	token    uint64
	acquired time.Time
	seq      uint64 // next seq to write; the renewer's until Release stops it
	released atomic.Bool
	stop     context.CancelFunc
	done     chan struct{} // closed when the renewer has returned
}

// AcquireLease takes the publish lease of the internal database (see the
// algorithm above), waiting up to cfg.Wait while another holds it, and
// renews it in the background until Release or until ctx ends.
func (c *Client) AcquireLease(ctx context.Context, cfg LeaseConfig) (*Lease, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	began := time.Now()
	for {
		l, cur, err := c.claimLease(ctx, cfg)
		if err != nil {
			return nil, fmt.Errorf("taking the publish lease in %s.publish_lease as %s: %w", c.cfg.Database, cfg.Holder, err)
		}
		if l != nil {
			return l, nil
		}
		left := cfg.Wait - time.Since(began)
		if left <= 0 {
			return nil, fmt.Errorf("%w: %s holds it in %s.publish_lease; waited %s. Another publish, backfill or run's automatic publisher is at work: try again when it is done; a killed publisher's lease runs out at its expiry",
				ErrLeaseHeld, cur, c.cfg.Database, cfg.Wait.Round(time.Second))
		}
		if err := sleep(ctx, min(leasePoll, left)); err != nil {
			return nil, fmt.Errorf("waiting for the publish lease held by %s: %w", cur, err)
		}
	}
}

// claimLease makes one attempt: the held lease, or nil and the current
// holder when another holds it or won the tie.
func (c *Client) claimLease(ctx context.Context, cfg LeaseConfig) (*Lease, LeaseState, error) {
	cur, err := c.CurrentLease(ctx)
	if err != nil {
		return nil, cur, err
	}
	now := cfg.Now()
	if !cur.free(now) {
		return nil, cur, nil
	}
	l := &Lease{c: c, cfg: cfg, token: cur.Token + 1, acquired: now.UTC().Truncate(time.Second), done: make(chan struct{})}
	if err := l.write(ctx, now, false); err != nil {
		return nil, cur, err
	}
	if err := sleep(ctx, cfg.Settle); err != nil {
		return nil, cur, err
	}
	after, err := c.CurrentLease(ctx)
	if err != nil {
		return nil, after, err
	}
	if after.Token != l.token || after.Holder != cfg.Holder {
		return nil, after, nil // another claim won; ours is never current
	}
	renewCtx, stop := context.WithCancel(ctx)
	l.stop = stop
	go l.renew(renewCtx)
	return l, after, nil
}

// Token is the lease's fencing token.
func (l *Lease) Token() uint64 { return l.token }

// Holder is the name the lease was taken under.
func (l *Lease) Holder() string { return l.cfg.Holder }

// Check returns nil while the lease is still this holder's, with at least
// a quarter of the TTL left, and an error wrapping ErrLeaseLost
// otherwise (or the error of reading the table: unconfirmed is not held).
func (l *Lease) Check(ctx context.Context) error {
	if l.released.Load() {
		return fmt.Errorf("%w: token %d was released", ErrLeaseLost, l.token)
	}
	cur, err := l.c.CurrentLease(ctx)
	if err != nil {
		return fmt.Errorf("checking the publish lease (token %d): %w", l.token, err)
	}
	now := l.cfg.Now()
	switch {
	case cur.Token != l.token || cur.Holder != l.cfg.Holder:
		return fmt.Errorf("%w: %s took it over from %s (token %d)", ErrLeaseLost, cur, l.cfg.Holder, l.token)
	case cur.Released:
		return fmt.Errorf("%w: token %d was released", ErrLeaseLost, l.token)
	case cur.ExpiresAt.Sub(now) < l.cfg.TTL/4:
		return fmt.Errorf("%w: token %d expires at %s, too soon to write (renewals failed or stalled; lease TTL %s)",
			ErrLeaseLost, l.token, cur.ExpiresAt.Format(time.RFC3339), l.cfg.TTL)
	}
	return nil
}

// Release stops the renewals and gives the lease back, so the next
// publisher need not wait for its expiry. Releasing twice is harmless.
func (l *Lease) Release(ctx context.Context) error {
	if l.released.Swap(true) {
		return nil
	}
	l.stop()
	<-l.done
	// Also after ctx ended (Ctrl-C): otherwise others wait for the TTL.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := l.write(ctx, l.cfg.Now(), true); err != nil {
		return fmt.Errorf("releasing the publish lease (token %d) in %s.publish_lease: %w", l.token, l.c.cfg.Database, err)
	}
	return nil
}

// renew extends the lease every TTL/3 while it is still this holder's;
// it stops at ctx's end or when the lease is lost. A failed renewal is
// tried again at the next tick: Check fails once the expiry comes close.
func (l *Lease) renew(ctx context.Context) {
	defer close(l.done)
	t := time.NewTicker(l.cfg.TTL / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := l.Check(ctx)
		if errors.Is(err, ErrLeaseLost) {
			return
		}
		if err == nil {
			_ = l.write(ctx, l.cfg.Now(), false)
		}
	}
}

// write appends a row of the lease: a claim (seq 0), a renewal, or the
// release, with the next seq.
func (l *Lease) write(ctx context.Context, now time.Time, release bool) error {
	now = now.UTC().Truncate(time.Second)
	expires := now.Add(l.cfg.TTL)
	if release {
		expires = now
	}
	seq := l.seq
	l.seq++
	insert := "INSERT INTO " + l.c.table(l.c.cfg.Database, "publish_lease") + " (token, holder, seq, acquired_at, expires_at, released)"
	return retry(ctx, l.c.cfg.Retry, func(ctx context.Context) error {
		batch, err := l.c.conn.PrepareBatch(ctx, insert)
		if err != nil {
			return err
		}
		defer batch.Close()
		if err := batch.Append(l.token, l.cfg.Holder, seq, l.acquired, expires, flag(release)); err != nil {
			return err
		}
		return batch.Send()
	})
}

// CurrentLease reads the current lease: the highest token, of its claims
// the greatest holder, of that holder's rows the newest (argMax by seq,
// exact before merges). The zero LeaseState when none was ever taken.
func (c *Client) CurrentLease(ctx context.Context) (LeaseState, error) {
	table := c.table(c.cfg.Database, "publish_lease")
	q := `SELECT token, holder, argMax(acquired_at, seq), argMax(expires_at, seq), argMax(released, seq)
		FROM ` + table + `
		WHERE token = (SELECT max(token) FROM ` + table + `)
		GROUP BY token, holder
		ORDER BY holder DESC
		LIMIT 1`
	states, err := queryRows(ctx, c, func(scan func(...any) error) (LeaseState, error) {
		var s LeaseState
		var released uint8
		err := scan(&s.Token, &s.Holder, &s.AcquiredAt, &s.ExpiresAt, &released)
		s.Released = released != 0
		s.AcquiredAt, s.ExpiresAt = s.AcquiredAt.UTC(), s.ExpiresAt.UTC()
		return s, err
	}, q)
	if err != nil {
		return LeaseState{}, fmt.Errorf("reading %s: %w", table, err)
	}
	if len(states) == 0 {
		return LeaseState{}, nil
	}
	return states[len(states)-1], nil
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// LeaseHolder names this process in the publish lease: what it runs, its
// host and pid, and a random tag that tells apart two publishers of one
// process. Nothing secret.
func LeaseHolder(role string) string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown-host"
	}
	return fmt.Sprintf("%s@%s:%d:%08x", role, host, os.Getpid(), rand.Uint32())
}
