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
	"syscall"
	"testing"
	"time"

	"github.com/cohortline/cohortline/cmd/internal/configfile"
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
// ones wait for the idle timeout, which is not timed). It reads the topic
// in plaintext, then, when deploy/dev/up's secured ports are there,
// over SASL_SSL (SCRAM-SHA-512) and over mTLS, writing to ClickHouse over
// TLS with a password: the cost of security beside the plaintext figure.
// Run it with `make bench` or
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
	b.Run("plaintext", func(b *testing.B) {
		benchRun(b, events, pipeline.Config{Brokers: []string{kafkaAddr}, Topic: topic}, clickhouse.Config{Addr: []string{chAddr}})
	})
	for _, name := range []string{"SASL_SSL", "mTLS"} {
		b.Run(name, func(b *testing.B) {
			e := newSecureEnv(b)
			k := pipeline.Config{Brokers: []string{e.kafka.SASLSSL}, Topic: topic}
			k.TLS.Enabled, k.TLS.CAFile = true, e.kafka.CAFile
			if name == "mTLS" {
				k.Brokers = []string{e.kafka.MTLS}
				k.TLS.CertFile, k.TLS.KeyFile = e.kafka.CertFile, e.kafka.KeyFile
			} else {
				k.SASL.Mechanism, k.SASL.Username, k.SASL.Secret.PasswordFile = pipeline.MechanismSCRAMSHA512, e.kafka.SASLUser, e.kafka.SASLPasswordFile
			}
			var err error
			if k.Dialer, err = pipeline.NewDialer(k.TLS, k.SASL, os.Getenv); err != nil {
				b.Fatal(err)
			}
			ch := clickhouse.Config{Addr: []string{e.clickhouse.Addr}, Username: e.clickhouse.User, Password: devenv.ReadSecret(b, e.clickhouse.PasswordFile)}
			ch.TLS.Enabled, ch.TLS.CAFile = true, e.clickhouse.CAFile
			benchRun(b, events, k, ch)
		})
	}
}

// benchRun runs a fresh consumer with kc over the topic of events into
// fresh databases of chc, b.N times, and reports the events per second.
func benchRun(b *testing.B, events int, kc pipeline.Config, chc clickhouse.Config) {
	rekey, err := cohorts.NewRekeyer([]byte(configfile.DevelopmentSecret))
	if err != nil {
		b.Fatal(err)
	}
	spec := cohorts.DefaultSpec()
	var elapsed, cpu time.Duration
	var peakHeap uint64
	b.ResetTimer()
	for i := range b.N {
		db := fmt.Sprintf("bench_run_%d_%d", time.Now().UnixNano(), i)
		chc.Database, chc.PublishedDatabase = db, db+"_pub"
		client, err := clickhouse.Open(b.Context(), chc)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := client.Migrate(b.Context()); err != nil {
			b.Fatal(err)
		}
		kc.Group, kc.IdleTimeout = db, time.Second
		consumer, err := pipeline.NewConsumer(kc, &spec, rekey, client.Writer(), slog.New(slog.NewJSONHandler(io.Discard, nil)))
		if err != nil {
			b.Fatal(err)
		}
		ctx, stop := context.WithCancel(b.Context())
		done := make(chan error, 1)
		start, cpuStart := time.Now(), processCPU(b)
		go func() { done <- consumer.Run(ctx) }()
		for handled(consumer) < uint64(events) {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			peakHeap = max(peakHeap, m.HeapInuse)
			time.Sleep(20 * time.Millisecond)
		}
		elapsed += time.Since(start)
		cpu += processCPU(b) - cpuStart
		stop()
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		dropDatabases(b, devenv.ClickHouse(b), db, db+"_pub")
		client.Close()
	}
	b.ReportMetric(float64(events)*float64(b.N)/elapsed.Seconds(), "events/s")
	b.ReportMetric(float64(peakHeap)/(1<<20), "peak-heap-MiB")
	// This process's CPU (user and system) per event: the client's share,
	// apart from the broker's and ClickHouse's, which share the machine.
	b.ReportMetric(float64(cpu.Microseconds())/float64(events*b.N), "cpu-µs/event")
}

// processCPU is the CPU time this process has used, user and system.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func handled(c *pipeline.Consumer) uint64 {
	var n uint64
	for _, cs := range c.Counters() {
		n += cs.Messages.Load()
	}
	return n
}
