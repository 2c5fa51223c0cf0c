// Package pipeline is Cohortline's streaming core: it consumes activity
// events from Kafka and turns them into flushed windows of cohort partials.
//
//	consumer.go          Consumer: the consumer group, one goroutine per assigned partition
//	partition_worker.go  Worker: decode, policy, re-key, window, flush, commit (one partition)
//	flush.go             a closed window's record, window_progress row and write
//	flusher.go           the pipelined flush: a worker's closed windows written behind its reading
//	watermark.go         the event-time watermark, corroborated by several users
//	idle.go              closing the windows of a quiet partition
//	dead_letter.go       the dead-letter topic, written before the commit that passes it
//	sink.go              Sink, the interface the partials go to (sinks/clickhouse.Writer is one)
//	counters.go, gauges.go, metrics.go, latency.go   what /metrics shows
//	topics.go, producer.go   Kafka administration and the batching producer gen uses
//	config.go            Config, the kafka section of the config file
//
// Beside it: internal/kafkawire (the Fetch client and record-batch decoder
// the workers read with), backfill (the same Worker over a bounded
// source), archive (event files), ops (the /metrics and probe server) and
// pipelinetest (test helpers). It declares the Sink it needs; sinks satisfy
// it on schemas.Flush without importing this package.
//
// # Goroutines
//
//	Consumer.Run (the caller's goroutine)     joins the group; per generation:
//	  kafka-go generation, one per partition  runPartition → consumePartition: owns its
//	                                          kafkawire.PartitionReader, its Worker and its
//	                                          dead-letter buffer; a failed worker restarts
//	                                          here from the last commit, after a backoff
//	  kafka-go's own goroutines               heartbeats, the dead-letter kafka.Writer
//	the metrics collector (a scrape)          reads Counters (atomics) and gauges (Consumer.mu)
//
// The generation ends when any partition function returns, and kafka-go
// waits for all of them before the next one, so a worker is created on
// assignment and gone, with its flusher, before its partition is revoked.
// The only things partition goroutines share are the Sink and the
// dead-letter writer (both safe for concurrent use) and the Consumer's maps
// of counters and gauges. A worker and its flusher share only two bounded
// channels (closed windows one way, the sink's answers the other) and the
// partition's atomic counters: the worker's state, its dead letters and
// its commits stay on the worker's goroutine.
// The sink's group commit (sinks/clickhouse/group_commit.go) runs on the
// calling workers: whichever finds the writer idle inserts the flushes the
// others queued meanwhile.
//
// # Exactly-once effect
//
// Consume at least once, write idempotently, commit only what the sink has
// acknowledged (DESIGN.md, "Delivery guarantee"). Three rules, kept by
// Worker:
//
//  1. A window is written only when the watermark closes it, and its flush
//     version is the offset after the message that closed it, so a replay
//     writes the same rows with the same version.
//  2. The committed offset is the low watermark: the first offset of the
//     oldest window not yet stored, open or in flight to the sink (or the
//     next offset when there is none), and only after the dead letters up
//     to it are durable, so every message an unflushed window needs is read
//     again after a crash. A pipelined flush moves it only once the sink
//     has acknowledged, and the flusher writes in order and stops at the
//     first failure, so the flushes stored are always the first ones
//     handed off: what resume reads (rule 3) is what a synchronous worker
//     could have left.
//  3. A worker taking over a partition first restores the watermark of the
//     partition's last flush (Resume), so replayed messages meet the same
//     watermark they met the first time.
//
// # Lock order
//
// Locks stay inside their structs and none is held while another is taken:
// Consumer.mu (the counters and gauges maps) and Consumer.commitMu (offset
// commits share the generation's coordinator connection) are each taken
// alone, and never around a call into the sink, whose own lock (the group
// commit queue) is taken only inside WritePartials. A Worker holds no lock:
// it is confined to its goroutine, and meets its flusher only on channels
// (flusher.go), never while holding a lock; the commit (and so commitMu)
// is taken on the worker's goroutine, after the flusher's answer arrived. In a backfill, Checkpoint.mu and the
// reject log's mutex are likewise leaves.
package pipeline
