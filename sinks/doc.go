// Package sinks groups the destinations of cohort partials and published
// enrichments. Each sub-package satisfies pipeline.Sink without importing the
// pipeline package: sinks/clickhouse writes to ClickHouse.
package sinks
