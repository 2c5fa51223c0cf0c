package ops

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"
)

// Links follows the connections of a command to its servers (Kafka's
// group coordinator, the partition leaders, the dead-letter writer,
// ClickHouse) so that a failure is said at once and not once per retry:
//
//   - the first failure of a link is logged when it happens, with the
//     address and the cause, so a bad address shows within one dial
//     timeout;
//   - then a line only when the cause changes, or a summary every
//     SummaryEvery while it keeps failing (since when, how many attempts);
//   - a line when it works again, with how long it was down.
//
// /readyz answers with the failing links (Readiness.SetLinks), and a
// command that must not wait (run --fail-fast) gets the first failure
// through OnFailure. Safe for concurrent use; the zero value is not
// usable, NewLinks makes one.
type Links struct {
	log *slog.Logger
	now func() time.Time
	// SummaryEvery is how often a link that keeps failing for the same
	// cause is logged again. Default 30s.
	SummaryEvery time.Duration
	// OnFailure, when set, is called on every failure, outside the lock.
	OnFailure func(link, addr string, err error)

	mu    sync.Mutex
	links map[string]*linkState
}

type linkState struct {
	addr     string
	since    time.Time // first failure of this outage
	attempts int       // failures since then
	last     error
	cause    string    // class of the last logged failure
	logged   time.Time // last line written about it
}

// NewLinks returns a tracker that logs to log.
func NewLinks(log *slog.Logger) *Links {
	return &Links{log: log, now: time.Now, SummaryEvery: 30 * time.Second, links: map[string]*linkState{}}
}

// Failed records a failed attempt on link (e.g. "kafka", "clickhouse")
// to addr, and logs it when it starts an outage or changes its cause, or
// when the last line about it is SummaryEvery old.
func (l *Links) Failed(link, addr string, err error) {
	if l == nil || err == nil {
		return
	}
	now := l.now()
	l.mu.Lock()
	s := l.links[link]
	first := s == nil
	if first {
		s = &linkState{since: now}
		l.links[link] = s
	}
	s.addr, s.last = addr, err
	s.attempts++
	cause := causeOf(err)
	var msg string
	switch {
	case first:
		msg = "connection failed; retrying"
	case cause != s.cause:
		msg = "connection still failing, with another cause"
	case now.Sub(s.logged) >= l.SummaryEvery:
		msg = "connection still failing"
	}
	if msg != "" {
		s.cause, s.logged = cause, now
	}
	attempts, since := s.attempts, now.Sub(s.since)
	l.mu.Unlock()
	if msg != "" {
		l.log.Error(msg, "link", link, "addr", addr, "err", err.Error(),
			"attempts", attempts, "failing_for", since.Round(time.Millisecond).String())
	}
	if l.OnFailure != nil {
		l.OnFailure(link, addr, err)
	}
}

// Recovered records that link works again (a no-op when it was not
// failing) and logs how long it was down.
func (l *Links) Recovered(link string) {
	if l == nil {
		return
	}
	now := l.now()
	l.mu.Lock()
	s := l.links[link]
	delete(l.links, link)
	l.mu.Unlock()
	if s != nil {
		l.log.Info("connection recovered", "link", link, "addr", s.addr,
			"attempts", s.attempts, "failed_for", now.Sub(s.since).Round(time.Millisecond).String())
	}
}

// Problems returns one line per failing link, sorted, such as
//
//	kafka: dial tcp 127.0.0.1:1: connect: connection refused (since 12s, 7 attempts)
func (l *Links) Problems() []string {
	if l == nil {
		return nil
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]string, 0, len(l.links))
	for name, s := range l.links {
		out = append(out, fmt.Sprintf("%s: %v (since %s, %d attempts)", name, s.last,
			now.Sub(s.since).Round(time.Second), s.attempts))
	}
	slices.Sort(out)
	return out
}

// causeOf names the kind of a failure for "has the cause changed": the
// innermost error of the chain, so that "connection refused" stays one
// cause across partitions and offsets whose messages differ.
func causeOf(err error) string {
	for {
		var next error
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			next = u.Unwrap()
		case interface{ Unwrap() []error }:
			if errs := u.Unwrap(); len(errs) > 0 {
				next = errs[0]
			}
		}
		if next == nil {
			return err.Error()
		}
		err = next
	}
}

// Backoff is the wait before retry n (1-based) of a connection: doubling
// from Initial up to Max.
type Backoff struct{ Initial, Max time.Duration }

// Wait returns the wait before retry n.
func (b Backoff) Wait(n int) time.Duration {
	d := b.Initial
	for i := 1; i < n && d < b.Max; i++ {
		d *= 2
	}
	return min(d, b.Max)
}

// Retry runs op until it succeeds, fails with an error that retryable
// (nil: any) says is not worth retrying, or ctx ends, reporting each
// failure on link (to addr) and the recovery, waiting b between attempts.
// It returns nil once op succeeded, else the last error (joined with
// ctx's cause when ctx ended).
func (l *Links) Retry(ctx context.Context, link, addr string, b Backoff, retryable func(error) bool, op func(context.Context) error) error {
	for n := 1; ; n++ {
		err := op(ctx)
		if err == nil {
			l.Recovered(link)
			return nil
		}
		if ctx.Err() != nil {
			return errors.Join(err, context.Cause(ctx))
		}
		if retryable != nil && !retryable(err) {
			return err
		}
		l.Failed(link, addr, err)
		t := time.NewTimer(b.Wait(n))
		select {
		case <-ctx.Done():
			t.Stop()
			return errors.Join(err, context.Cause(ctx))
		case <-t.C:
		}
	}
}

// problemsText joins Problems for /readyz.
func problemsText(l *Links) string { return strings.Join(l.Problems(), "\n") }
