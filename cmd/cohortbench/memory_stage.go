package main

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// memoryResult is the memory per active user: runs of stage (b) whose
// topics differ only in the number of users (events scaled with them), all
// of each topic's events in one event-time window, so that every active
// user's state is held at once just before the idle timeout closes it.
type memoryResult struct {
	Points []memoryPoint // one per --mem-users, rising: at least two
}

type memoryPoint struct {
	Users   int    // gen --users
	Events  int64  // gen --events
	Active  uint64 // users with state: the window's distinct users in the partials
	PeakRSS uint64 // cohortline's VmHWM
	// LiveHeap is the most heap a GC found live (GODEBUG=gctrace=1),
	// without the collector's headroom. The per-user tables are not in
	// it: they are mapped outside the Go heap (cohorts/slab.go).
	LiveHeap uint64
	Wall     time.Duration
}

// BytesPerUser is the peak RSS the extra active users of the largest run
// cost over the smallest, per user: what the process's footprint grows by
// per active user, all else equal (buffers, connections, the Go runtime
// cancel out). It is the slope between the curve's two ends, not a
// least-squares fit: the report can then show the arithmetic, and the
// table beside it gives each step's own slope (stepPerUser), where a hash
// table's growth step shows instead of being averaged away.
func (m memoryResult) BytesPerUser() float64 {
	return perUser(m.smallest(), m.largest(), peakRSS)
}

// LiveBytesPerUser is the same for the live Go heap: the part of the
// state the garbage collector manages (cohort aggregates, not the per-user
// tables), before the collector's headroom (GOGC=100: the heap may grow to
// twice the live heap before a collection).
func (m memoryResult) LiveBytesPerUser() float64 {
	return perUser(m.smallest(), m.largest(), liveHeap)
}

// stepPerUser is the peak RSS per active user from point i-1 to point i:
// the curve's local slope (0 for the first point).
func (m memoryResult) stepPerUser(i int) float64 {
	if i == 0 {
		return 0
	}
	return perUser(m.Points[i-1], m.Points[i], peakRSS)
}

func (m memoryResult) smallest() memoryPoint { return m.Points[0] }
func (m memoryResult) largest() memoryPoint  { return m.Points[len(m.Points)-1] }

func peakRSS(p memoryPoint) uint64  { return p.PeakRSS }
func liveHeap(p memoryPoint) uint64 { return p.LiveHeap }

// perUser is how many more bytes hi holds than lo per extra active user;
// 0 when hi has no more active users (a run too small to tell).
func perUser(lo, hi memoryPoint, bytes func(memoryPoint) uint64) float64 {
	if hi.Active <= lo.Active {
		return 0
	}
	return (float64(bytes(hi)) - float64(bytes(lo))) / float64(hi.Active-lo.Active)
}

// memGenFlags put a topic's events in one hour-long window (the spec's
// window; generation starts on the hour) with every user equally active,
// and no late or out-of-order records that could fall into the window
// before.
var memGenFlags = []string{"--span", "50m", "--activity-skew", "0", "--late", "0", "--out-of-order", "0"}

func (b *bench) memoryStage(ctx context.Context) (memoryResult, error) {
	var m memoryResult
	runs := len(b.opts.MemUsers)
	for i, users := range b.opts.MemUsers {
		label := "mem-" + strconv.Itoa(users)
		topic := b.name(label)
		b.cleanup(func(ctx context.Context) error { return b.kafka.deleteTopics(ctx, topic) })
		events := int64(users) * int64(b.opts.MemEventsPerUser)
		ranges, _, err := b.gen(ctx, topic, b.opts.Partitions, users, events, memGenFlags...)
		if err != nil {
			return memoryResult{}, err
		}
		b.logf("memory run %d of %d: %d users, %d events…", i+1, runs, users, events)
		r, err := b.runCohortline(ctx, runSpec{label: label, topic: topic, ranges: ranges, gctrace: true})
		if err != nil {
			return memoryResult{}, err
		}
		if r.Partials.Windows != 1 {
			return memoryResult{}, fmt.Errorf("run %s flushed %d windows, want 1: the active users are not all held at once", label, r.Partials.Windows)
		}
		m.Points = append(m.Points, memoryPoint{Users: users, Events: events, Active: r.Partials.Users, PeakRSS: r.PeakRSS, LiveHeap: r.PeakLiveHeap, Wall: r.Wall})
		b.logf("memory run %d of %d: %d active users, peak RSS %s, peak live heap %s", i+1, runs, r.Partials.Users, mib(r.PeakRSS), mib(r.PeakLiveHeap))
		// The topic is not needed any more: free the broker's disk now.
		if err := b.kafka.deleteTopics(ctx, topic); err != nil {
			return memoryResult{}, fmt.Errorf("deleting topic %s: %w", topic, err)
		}
	}
	return m, nil
}
