package pipeline

import (
	"sync/atomic"
	"time"
)

// flushBuckets are the upper bounds, in seconds, of the flush latency
// histogram: from a quick local insert to a write that waited out a
// ClickHouse outage through its retries.
var flushBuckets = [...]float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120}

// latencyHistogram counts durations in flushBuckets. One goroutine observes,
// the metrics collector reads concurrently; a read may see a sum one
// observation ahead of the counts, which a scrape tolerates.
type latencyHistogram struct {
	counts [len(flushBuckets) + 1]atomic.Uint64 // non-cumulative; the last is +Inf
	nanos  atomic.Int64
}

func (h *latencyHistogram) observe(d time.Duration) {
	s := d.Seconds()
	i := 0
	for i < len(flushBuckets) && s > flushBuckets[i] {
		i++
	}
	h.counts[i].Add(1)
	h.nanos.Add(int64(d))
}

// addTo adds h to the cumulative bucket counts (by upper bound), the total
// count and the sum in seconds of a histogram being built for a scrape.
func (h *latencyHistogram) addTo(buckets map[float64]uint64, count *uint64, sum *float64) {
	var cumulative uint64
	for i, le := range flushBuckets {
		cumulative += h.counts[i].Load()
		buckets[le] += cumulative
	}
	*count += cumulative + h.counts[len(flushBuckets)].Load()
	*sum += time.Duration(h.nanos.Load()).Seconds()
}
