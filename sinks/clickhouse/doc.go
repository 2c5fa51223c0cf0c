// Package clickhouse writes cohort partials and published enrichments to
// ClickHouse over the native protocol (clickhouse-go/v2): migrations,
// columnar inserts from Arrow records, and the queries behind publish and
// lookup. It works with ClickHouse 18.16 and current releases.
package clickhouse
