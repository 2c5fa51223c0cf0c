package pipeline

import (
	"math"
	"strconv"
	"sync/atomic"

	"github.com/cohortline/cohortline/cohorts"
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics exports a Consumer to Prometheus. It is a collector: every value
// is read at scrape time from the atomic Counters and gauges the workers
// keep anyway, so the hot path does no work for it and nothing is counted
// twice. Register it on the registry the caller serves:
//
//	reg.MustRegister(pipeline.NewMetrics(consumer))
//
// Label values come from fixed sets (outcome, reason class) or are
// partition numbers: never a per-person value (privacy invariant 1).
// Counters are per process and per partition handled: a partition replayed
// after a restart or a rebalance counts its replayed messages again.
type Metrics struct {
	consumer *Consumer

	events, keyMismatch, deadLetters, retracted *prometheus.Desc
	flushes, commits, restarts, flushSeconds    *prometheus.Desc
	watermark, openWindows, lag                 *prometheus.Desc
	mappedState                                 *prometheus.Desc
}

// eventOutcomes are the values of the outcome label of
// cohortline_events_total and the counters behind them. They partition the
// messages: each message handled has exactly one.
var eventOutcomes = [...]struct {
	name    string
	counter func(*Counters) *atomic.Uint64
}{
	{"counted", func(c *Counters) *atomic.Uint64 { return &c.Counted }},
	{"bounded", func(c *Counters) *atomic.Uint64 { return &c.Bounded }},
	{"duplicate", func(c *Counters) *atomic.Uint64 { return &c.Duplicates }},
	{"late", func(c *Counters) *atomic.Uint64 { return &c.Late }},
	{"minor", func(c *Counters) *atomic.Uint64 { return &c.Minors }},
	{"sensitive", func(c *Counters) *atomic.Uint64 { return &c.Sensitive }},
	{"overflow", func(c *Counters) *atomic.Uint64 { return &c.Overflow }},
	{"rejected", func(c *Counters) *atomic.Uint64 { return &c.Rejected }},
}

// NewMetrics returns the collector of c's metrics.
func NewMetrics(c *Consumer) *Metrics {
	partition := []string{"partition"}
	desc := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, labels, nil)
	}
	return &Metrics{
		consumer: c,
		events: desc("cohortline_events_total",
			"Messages handled by the partition workers, by outcome: counted, bounded (over the user's contribution bound), duplicate, late, minor, sensitive (excluded), overflow (a window too full for a new user), rejected (dead-lettered).",
			"partition", "outcome"),
		keyMismatch: desc("cohortline_key_mismatch_total",
			"Messages whose Kafka key is not the event's user token, or null: dead-lettered as key_mismatch and never counted (one person in several partitions would count as several).",
			partition...),
		retracted: desc("cohortline_retracted_events_total",
			"Events counted (or bounded) when they came and taken out of their window's partials at its flush, because their user sent an event of age 13-17 later in the window.",
			partition...),
		deadLetters: desc("cohortline_dead_letters_total",
			"Messages sent to the dead-letter topic, by reason class (the reason code before its colon).",
			"partition", "reason"),
		flushes: desc("cohortline_flushes_total",
			"Windows of a partition written to the sink.", partition...),
		commits: desc("cohortline_commits_total",
			"Offsets committed to the consumer group (each once the sink acknowledged what they cover).", partition...),
		restarts: desc("cohortline_worker_restarts_total",
			"Partition workers restarted from the last commit after a failure.", partition...),
		flushSeconds: desc("cohortline_window_flush_seconds",
			"Sink write latency of one window flush of one partition, retries included."),
		watermark: desc("cohortline_watermark_seconds",
			"Event-time watermark of an assigned partition, Unix seconds: the event time that watermark_users distinct users' countable events reached, minus max_out_of_order, never past the wall clock minus it; when idle, the end of the newest open window plus the allowed lateness.",
			partition...),
		openWindows: desc("cohortline_open_windows",
			"Windows of an assigned partition that are open (not yet flushed).", partition...),
		lag: desc("cohortline_lag_messages",
			"Messages of an assigned partition after the last one its worker fetched (high-water mark minus next offset).",
			partition...),
		mappedState: desc("cohortline_window_state_mapped_bytes",
			"Memory of the open windows' per-user tables and dedup sets mapped outside the Go heap (not in go_memstats_*): most of a worker's memory."),
	}
}

// Describe sends the descriptors of every metric Collect may send.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		m.events, m.keyMismatch, m.deadLetters, m.retracted, m.flushes, m.commits, m.restarts,
		m.flushSeconds, m.watermark, m.openWindows, m.lag, m.mappedState,
	} {
		ch <- d
	}
}

// Collect reads the counters of every partition this process has handled
// and the gauges of the partitions assigned now.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	buckets := make(map[float64]uint64, len(flushBuckets))
	var count uint64
	var sum float64
	counter := func(d *prometheus.Desc, v *atomic.Uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v.Load()), labels...)
	}
	for p, c := range m.consumer.Counters() {
		partition := strconv.Itoa(p)
		for _, o := range eventOutcomes {
			counter(m.events, o.counter(c), partition, o.name)
		}
		for i, reason := range rejectClasses {
			counter(m.deadLetters, &c.rejected[i], partition, reason)
		}
		counter(m.keyMismatch, &c.KeyMismatch, partition)
		counter(m.retracted, &c.Retracted, partition)
		counter(m.flushes, &c.Flushes, partition)
		counter(m.commits, &c.Commits, partition)
		counter(m.restarts, &c.Restarts, partition)
		c.flushTime.addTo(buckets, &count, &sum)
	}
	ch <- prometheus.MustNewConstHistogram(m.flushSeconds, count, sum, buckets)
	ch <- prometheus.MustNewConstMetric(m.mappedState, prometheus.GaugeValue, float64(cohorts.SlabBytes()))
	for p, g := range m.consumer.assigned() {
		partition := strconv.Itoa(p)
		if wm := g.watermark.Load(); wm != math.MinInt64 {
			ch <- prometheus.MustNewConstMetric(m.watermark, prometheus.GaugeValue, float64(wm)/1000, partition)
		}
		ch <- prometheus.MustNewConstMetric(m.openWindows, prometheus.GaugeValue, float64(g.openWindows.Load()), partition)
		if lag := g.lag.Load(); lag >= 0 {
			ch <- prometheus.MustNewConstMetric(m.lag, prometheus.GaugeValue, float64(lag), partition)
		}
	}
}
