package pipeline

import (
	"math"
	"time"

	"github.com/cohortline/cohortline/cohorts"
)

// watermark is one partition's event-time watermark: "every event before
// it has been seen". Windows close when it passes their end plus the
// allowed lateness. It only moves forward, and no single person moves it
// (DESIGN.md, "Watermarks"):
//
//   - Only countable events move it: the worker feeds it the events its
//     open windows counted or bounded when they came (topUsers), never a
//     rejected, late, duplicate, minor or sensitive one. (A user who turns
//     out a minor later in the window keeps what their earlier events
//     corroborated: they were countable then, and the watermark never
//     moves back.)
//   - It follows the quorum-th largest per-user maximum event time over the
//     open windows, minus the out-of-order bound: the event time that at
//     least quorum distinct users' events have reached. One far-ahead event
//     (a broken clock, a hostile producer) closes nothing until quorum-1
//     other people's events reach that time too. The price: a partition
//     with fewer than quorum active users closes its windows only by
//     idleness (Worker.Idle).
//   - In streaming it never passes the wall clock minus the bound (clock),
//     so events from the future wait in their windows instead of closing
//     the current one.
//
// Everything it follows lives in the open windows, which a replay rebuilds
// from all of their messages (rule 2 on Worker), so a replay moves
// it exactly as the first run did.
type watermark struct {
	bound  int64 // max_out_of_order, ms
	value  int64 // ms; math.MinInt64 until it first moves
	quorum int   // distinct users who must corroborate a time, 1..MaxWatermarkUsers
	// clock is the wall clock in ms, set by the consumer at each fetch;
	// math.MaxInt64 (no cap) in a backfill of the past and in tests.
	clock int64
}

// MaxWatermarkUsers is the largest kafka.watermark_users accepted.
const MaxWatermarkUsers = 16

func newWatermark(maxOutOfOrder time.Duration, quorum int) watermark {
	return watermark{bound: maxOutOfOrder.Milliseconds(), value: math.MinInt64, quorum: quorum, clock: math.MaxInt64}
}

// advanceTo raises the watermark to v if v is larger.
func (w *watermark) advanceTo(v int64) {
	if v > w.value {
		w.value = v
	}
}

// follow moves the watermark to what the open windows (by start) corroborate.
func (w *watermark) follow(open []*openWindow) {
	t, ok := corroborated(open, w.quorum)
	if !ok {
		return
	}
	t = min(t, w.clock)
	if t > math.MinInt64+w.bound {
		w.advanceTo(t - w.bound)
	}
}

// corroborated returns the quorum-th largest per-user maximum event time
// over the open windows (sorted by start), and false when fewer than quorum
// users have countable events in them. A user's maximum is in the newest
// window the user has an event in, and every event of a newer window is
// later than every event of an older one, so walking the windows' top
// users newest first and skipping users already seen visits the per-user
// maxima in decreasing order.
func corroborated(open []*openWindow, quorum int) (int64, bool) {
	var seen [MaxWatermarkUsers]cohorts.UserID
	n := 0
	for i := len(open) - 1; i >= 0; i-- {
		top := &open[i].top
	users:
		for j := range top.n {
			u := top.users[j]
			for _, s := range seen[:n] {
				if s == u {
					continue users
				}
			}
			seen[n] = u
			if n++; n == quorum {
				return top.ts[j], true
			}
		}
	}
	return 0, false
}

// topUsers is one window's quorum users with the latest events, each with
// the time of their latest countable event in the window, latest first.
// It holds re-keyed ids only, in memory, and goes with its window.
type topUsers struct {
	n     int
	users [MaxWatermarkUsers]cohorts.UserID
	ts    [MaxWatermarkUsers]int64
}

// observe records a countable event of u at ts, keeping the quorum users
// with the latest maxima, and reports whether anything changed. Kept
// exactly: a user out of the list has a maximum no later than the list's
// last, which only grows.
func (t *topUsers) observe(u cohorts.UserID, ts int64, quorum int) bool {
	i := 0
	for i < t.n && t.users[i] != u {
		i++
	}
	switch {
	case i < t.n && ts <= t.ts[i]:
		return false // not a new maximum of u
	case i < t.n:
		// u's new maximum: moves up from i
	case t.n < quorum:
		i = t.n
		t.n++
	case ts > t.ts[t.n-1]:
		i = t.n - 1 // u replaces the last
	default:
		return false
	}
	for ; i > 0 && t.ts[i-1] < ts; i-- {
		t.users[i], t.ts[i] = t.users[i-1], t.ts[i-1]
	}
	t.users[i], t.ts[i] = u, ts
	return true
}
