package pipeline

import (
	"maps"
	"math"
	"sync/atomic"
)

// partitionGauges are the current state of one assigned partition, for the
// metrics collector: its worker's goroutine stores them, a scrape loads
// them. They live while the partition is assigned (across worker restarts)
// and go when it is revoked. No per-person value: times and counts only.
type partitionGauges struct {
	watermark   atomic.Int64 // event time, epoch ms; math.MinInt64 before the first event
	openWindows atomic.Int64
	// lag is the high-water mark minus the offset after the last fetched
	// message, as of the last fetch; -1 (not known) before the first.
	lag atomic.Int64
}

func newPartitionGauges() *partitionGauges {
	g := &partitionGauges{}
	g.watermark.Store(math.MinInt64)
	g.lag.Store(-1)
	return g
}

// publish makes the worker's watermark and open window count visible to
// the collector: two atomic stores, cheap enough to run per message.
func (w *Worker) reportGauges() {
	w.gauges.watermark.Store(w.wm.value)
	w.gauges.openWindows.Store(int64(len(w.open)))
}

// attach registers the gauges of a partition just assigned.
func (c *Consumer) attach(partition int) *partitionGauges {
	g := newPartitionGauges()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gauges[partition] = g
	return g
}

// detach removes the gauges of a partition being revoked, unless another
// assignment replaced them already.
func (c *Consumer) detach(partition int, g *partitionGauges) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gauges[partition] == g {
		delete(c.gauges, partition)
	}
}

// assigned returns a snapshot of the gauges of the assigned partitions.
func (c *Consumer) assigned() map[int]*partitionGauges {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.gauges)
}

// Joined reports whether the consumer has joined its group and received a
// generation (an assignment, possibly empty) that is still current: what
// readiness needs from Kafka. It turns false when Run returns.
func (c *Consumer) Joined() bool { return c.joined.Load() }

// Owns reports whether partition is assigned to this instance right now.
// The automatic publisher runs on the owner of partition 0 only.
func (c *Consumer) Owns(partition int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.gauges[partition]
	return ok
}

// PartitionState is what the worker of one assigned partition reports of
// itself, for progress displays (the demo) and tests.
type PartitionState struct {
	Watermark   int64 // event time, epoch ms; math.MinInt64 before the first event
	OpenWindows int   // windows read but not flushed yet
	Lag         int64 // messages after the last one fetched, as of the last fetch; -1 before it
}

// Partitions returns the state of each partition assigned now.
func (c *Consumer) Partitions() map[int]PartitionState {
	out := map[int]PartitionState{}
	for p, g := range c.assigned() {
		out[p] = PartitionState{Watermark: g.watermark.Load(), OpenWindows: int(g.openWindows.Load()), Lag: g.lag.Load()}
	}
	return out
}
