package main

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/cohortline/cohortline/sinks/clickhouse"
)

// newOpsRegistry returns the registry `run` serves: the Go runtime and
// process collectors, and cohortline_sink_retries_total, counted by the
// ClickHouse client through ch.Retry.OnRetry. The caller adds the
// pipeline's collector once the consumer exists.
func newOpsRegistry(ch *clickhouse.Config) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	retries := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "cohortline_sink_retries_total",
		Help: "ClickHouse operations tried again after a retryable error (writes of partials and progress, reads, migrations).",
	})
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), retries)
	ch.Retry.OnRetry = retries.Inc
	return reg
}

// sinkInserts counts the writer's inserts into cohort_partials. Flushes
// that arrive together share one (group commit), so
// cohortline_flushes_total over this is the average group.
func sinkInserts(client *clickhouse.Client) prometheus.Collector {
	return prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "cohortline_sink_partials_inserts_total",
		Help: "INSERTs into cohort_partials; flushes that arrive while one is in flight share the next.",
	}, func() float64 { return float64(client.Writer().Stats().Inserts) })
}
