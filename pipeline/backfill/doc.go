// Package backfill recomputes a past range of windows (DESIGN.md,
// "Backfill") with the streaming core's own pipeline.Worker, one per
// partition, over a bounded source: Kafka read by timestamp outside any
// consumer group (kafka.go) or archived files routed to partitions as a
// producer would (files.go). Its flushes carry a backfill Version, above
// every streaming one, and stay invisible until the whole range is
// committed; a Checkpoint (checkpoint.go) records each partition's
// progress so that an interrupted backfill resumes without double
// counting.
//
// Parity: the workers run under streaming's watermark rules, so a backfill
// of a range streaming processed gives identical partials.
package backfill
