// Package ops serves the operations endpoints of `cohortline run`:
// Prometheus /metrics (the registry the command builds, with
// pipeline.NewMetrics), and the probes /healthz (live until the command
// stops) and /readyz (ClickHouse migrated and the consumer in its group).
// Config is the `http` section of the config file.
package ops
