package pipeline

import (
	"sync/atomic"

	"github.com/cohortline/cohortline/schemas"
)

// Counters count what happened to each message of one partition worker. The
// worker is their only writer; metrics exporters read them concurrently,
// hence the atomics. They never carry a per-person value: only counts.
type Counters struct {
	Messages    atomic.Uint64 // every message handled
	Counted     atomic.Uint64 // added to a window's features
	Bounded     atomic.Uint64 // added, but over the user's contribution bound: no sum
	Duplicates  atomic.Uint64 // event id already seen in its window
	Late        atomic.Uint64 // its window had already closed
	Minors      atomic.Uint64 // age 13-17, or of a user who sent one in the window: excluded from every cohort
	Retracted   atomic.Uint64 // counted or bounded, then taken out: the user turned out a minor later in the window
	Sensitive   atomic.Uint64 // sensitive business category: excluded
	KeyMismatch atomic.Uint64 // message key differs from the event's user token: dead-lettered, also in Rejected
	Overflow    atomic.Uint64 // a new user in a window that holds the most users one can: dropped
	Rejected    atomic.Uint64 // sent to the dead-letter topic
	Flushes     atomic.Uint64 // windows written to the sink
	Commits     atomic.Uint64 // offsets committed to the consumer group
	Restarts    atomic.Uint64 // workers restarted after a failure
	OutOfRange  atomic.Uint64 // backfill only: outside the range's windows, read for the watermark
	rejected    [numRejectClasses]atomic.Uint64
	flushTime   latencyHistogram // sink write latency per flush
}

// The reason classes dead-letter counts are kept by: the code before the
// colon (missing_field:ts counts as missing_field), so the set is fixed and
// small, as a metric label set must be.
var rejectClasses = [...]string{"malformed_json", "too_large", "ts_out_of_range", "pii_suspected", "missing_field", "bad_value", "duplicate_field", "key_mismatch", "other"}

const numRejectClasses = len(rejectClasses)

func rejectClass(r schemas.Reason) int {
	s := string(r)
	for i, c := range rejectClasses[:numRejectClasses-1] {
		if len(s) >= len(c) && s[:len(c)] == c && (len(s) == len(c) || s[len(c)] == ':') {
			return i
		}
	}
	return numRejectClasses - 1
}

// CountTotals are the outcome counts of Counters as plain numbers, for
// summing over partitions (see AddTo).
type CountTotals struct {
	Messages, Counted, Bounded, Duplicates, Late, Minors, Retracted, Sensitive, Overflow, Rejected, OutOfRange, Flushes uint64
}

// AddTo adds c's counts to t.
func (c *Counters) AddTo(t *CountTotals) {
	t.Messages += c.Messages.Load()
	t.Counted += c.Counted.Load()
	t.Bounded += c.Bounded.Load()
	t.Duplicates += c.Duplicates.Load()
	t.Late += c.Late.Load()
	t.Minors += c.Minors.Load()
	t.Retracted += c.Retracted.Load()
	t.Overflow += c.Overflow.Load()
	t.Sensitive += c.Sensitive.Load()
	t.Rejected += c.Rejected.Load()
	t.OutOfRange += c.OutOfRange.Load()
	t.Flushes += c.Flushes.Load()
}

// RejectedBy returns the number of dead-lettered messages per reason class.
func (c *Counters) RejectedBy() map[string]uint64 {
	out := make(map[string]uint64, numRejectClasses)
	for i, name := range rejectClasses {
		if n := c.rejected[i].Load(); n > 0 {
			out[name] = n
		}
	}
	return out
}
