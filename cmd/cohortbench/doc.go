// Command cohortbench is the side-by-side benchmark of `make bench`: on the
// real Kafka broker and ClickHouse server, over one generated topic, it
// measures
//
//	(a) the raw kafka-go read rate of the topic, doing nothing with the
//	    messages: the I/O limit (kafka.Reader and a Conn.ReadBatch loop);
//	(b) `cohortline run` end to end into ClickHouse, as a child process;
//	(c) what a user would pick instead: ClickHouse's Kafka table engine and
//	    a materialized view counting events by cohort key into a
//	    SummingMergeTree, with 1 and with 4 consumers;
//	(d) what a user would pick as a stream processor: the Flink job in
//	    flink/ (Java, built by Maven, a local MiniCluster) counting events
//	    and distinct users per cohort key and 1 h event-time window into
//	    ClickHouse; skipped, and said so, without java and mvn (--flink);
//
// plus two curves of how cohortline's cost grows with its work (issue 19):
// the partition curve, (b) once over a topic of each --curve-partitions
// count (default 1, 2, 4, 8, 16) holding (b)'s events, for events/s and
// CPU-µs per event (curve_stage.go); and the memory curve, (b) over topics
// of each --mem-users population (default 1M, 5M, 10M) with all events in
// one window, for peak RSS and bytes per active user (memory_stage.go).
// It prints events/s, CPU seconds and peak memory of every process that
// did the work, duplicate rows, the ratios that issue 5 sets targets for,
// and a table per curve, and draws the curves into a PNG (--plot, default
// BENCHMARKS-curves.png; plot.go). BENCHMARKS.md explains each figure and
// keeps the latest ones. Each of (c) and (d) is checked key by key against
// the topic.
//
//	go run ./cmd/cohortbench --events 200000 --mem-users none --curve-partitions none --plot none
//
// `cohortbench soak` (soak.go, `make soak`) is the soak instead: a steady
// rate of realistic activity through one `cohortline run` for 30 minutes,
// its RSS, heap, goroutines, open files and lag sampled every 10 s and
// judged by their least-squares growth against their noise
// (soak_verdict.go).
//
// It needs bin/cohortline (make build), COHORTLINE_KAFKA and
// COHORTLINE_CLICKHOUSE (eval "$(deploy/dev/up)"), and deletes every topic,
// consumer group and database it created.
package main
