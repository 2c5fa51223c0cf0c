// Package pipeline consumes activity events from Kafka and turns them into
// cohort partials: one worker per assigned partition, watermarks, the flush
// and commit protocol that gives the exactly-once effect, the dead-letter
// topic, backfill sources and metrics. It declares the Sink interface it
// writes to; sinks satisfy it without importing this package.
package pipeline
