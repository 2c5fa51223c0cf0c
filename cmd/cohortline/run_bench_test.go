package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/cohortline/cohortline/cohorts"
	"github.com/cohortline/cohortline/deploy/devenv"
	"github.com/cohortline/cohortline/pipeline"
	"github.com/cohortline/cohortline/sinks/clickhouse"
)

// BenchmarkRunEndToEnd measures the streaming pipeline from the real broker
// to the real ClickHouse: a topic of COHORTLINE_BENCH_EVENTS generated events
// (default 2M, 8 partitions, 10 users per 100 events) is consumed by a fresh
// consumer group into fresh databases, timed until every message has been
// handled (the windows closed by event time are flushed by then; the last
// ones wait for the idle timeout, which is not timed). Run it with
// `make bench` or
//
//	go test -run '^$' -bench RunEndToEnd -benchtime 1x ./cmd/cohortline/
func BenchmarkRunEndToEnd(b *testing.B) {
	kafkaAddr, chAddr := devenv.Kafka(b), devenv.ClickHouse(b)
	events := 2_000_000
	if v, err := strconv.Atoi(os.Getenv("COHORTLINE_BENCH_EVENTS")); err == nil && v > 0 {
		events = v
	}
	topic := fmt.Sprintf("bench-run-%d", time.Now().UnixNano())
	var genOut, genErr bytes.Buffer
	args := []string{"gen", "--seed", "5", "--users", strconv.Itoa(events / 10), "--events", strconv.Itoa(events),
		"--span", "24h", "--kafka", kafkaAddr, "--topic", topic, "--partitions", "8"}
	if code := run(b.Context(), args, nil, &genOut, &genErr); code != exitOK {
		b.Fatalf("gen: exit %d: %s", code, genErr.String())
	}
	b.Cleanup(func() { deleteTopics(kafkaAddr, topic, topic+".dlq") })
	rekey, err := cohorts.NewRekeyer([]byte(developmentSecret))
	if err != nil {
		b.Fatal(err)
	}
	spec := cohorts.DefaultSpec()

	var elapsed time.Duration
	var peakHeap uint64
	b.ResetTimer()
	for i := range b.N {
		db := fmt.Sprintf("bench_run_%d_%d", time.Now().UnixNano(), i)
		client, err := clickhouse.Open(b.Context(), clickhouse.Config{Addr: []string{chAddr}, Database: db, PublishedDatabase: db + "_pub"})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := client.Migrate(b.Context()); err != nil {
			b.Fatal(err)
		}
		consumer, err := pipeline.NewConsumer(pipeline.Config{
			Brokers: []string{kafkaAddr}, Topic: topic, Group: db, IdleTimeout: time.Second,
		}, &spec, rekey, client.Writer(), slog.New(slog.NewJSONHandler(io.Discard, nil)))
		if err != nil {
			b.Fatal(err)
		}
		ctx, stop := context.WithCancel(b.Context())
		done := make(chan error, 1)
		start := time.Now()
		go func() { done <- consumer.Run(ctx) }()
		for handled(consumer) < uint64(events) {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			peakHeap = max(peakHeap, m.HeapInuse)
			time.Sleep(20 * time.Millisecond)
		}
		elapsed += time.Since(start)
		stop()
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		dropDatabases(b, chAddr, db, db+"_pub")
		client.Close()
	}
	b.ReportMetric(float64(events)*float64(b.N)/elapsed.Seconds(), "events/s")
	b.ReportMetric(float64(peakHeap)/(1<<20), "peak-heap-MiB")
}

func handled(c *pipeline.Consumer) uint64 {
	var n uint64
	for _, cs := range c.Counters() {
		n += cs.Messages.Load()
	}
	return n
}
