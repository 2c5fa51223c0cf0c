package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"sync"
	"time"
)

// bench is one benchmark run: the connections, the samplers of the two
// servers, and what to delete at the end.
type bench struct {
	opts     options
	id       string // prefix of every topic, group, database and file it creates
	dir      string
	progress io.Writer
	kafka    *kafkaAdmin
	ch       *chClient

	// The servers' samplers; nil when the process was not found.
	chServer, kafkaServer *sampler
	stopSampling          context.CancelFunc
	sampling              sync.WaitGroup

	cleanups []func(context.Context) error
}

func newBench(ctx context.Context, opts options, progress io.Writer) (*bench, error) {
	b := &bench{opts: opts, id: fmt.Sprintf("cohortbench-%d", time.Now().Unix()), progress: progress, kafka: newKafkaAdmin(opts.Kafka, opts.kafka.dialer)}
	var err error
	if b.ch, err = openClickHouse(ctx, opts.ClickHouse); err != nil {
		return nil, err
	}
	if b.dir = opts.Dir; b.dir == "" {
		if b.dir, err = os.MkdirTemp("", "cohortbench-"); err != nil {
			b.ch.Close()
			return nil, err
		}
		b.cleanup(func(context.Context) error { return os.RemoveAll(b.dir) })
	} else if err := os.MkdirAll(b.dir, 0o755); err != nil {
		b.ch.Close()
		return nil, err
	}
	b.chServer = b.serverSampler("ClickHouse", "--clickhouse-pid", opts.ClickHouse, opts.ClickHousePID)
	b.kafkaServer = b.serverSampler("Kafka", "--kafka-pid", opts.Kafka, opts.KafkaPID)
	var sctx context.Context
	sctx, b.stopSampling = context.WithCancel(context.Background())
	for _, s := range []*sampler{b.chServer, b.kafkaServer} {
		if s != nil {
			b.sampling.Go(func() { s.run(sctx) })
		}
	}
	return b, nil
}

// serverSampler finds the server's process (pid, else the one listening
// on addr's port) and samples it; without it, its columns read n/a.
func (b *bench) serverSampler(name, pidFlag, addr string, pid int) *sampler {
	if pid == 0 {
		_, port, err := net.SplitHostPort(addr)
		if err == nil {
			var p int
			if p, err = strconv.Atoi(port); err == nil {
				pid, err = listenerPID(p)
			}
		}
		if err != nil {
			b.logf("%s server process not found (%v): its CPU and memory will read n/a; pass %s", name, err, pidFlag)
			return nil
		}
	}
	if _, err := procCPU(pid); err != nil {
		b.logf("%s server: %v: its CPU and memory will read n/a", name, err)
		return nil
	}
	b.logf("%s server: pid %d", name, pid)
	return newSampler(name, pid)
}

// mark samples both servers now: a stage's start and end are then exact.
func (b *bench) mark() time.Time {
	for _, s := range []*sampler{b.chServer, b.kafkaServer} {
		if s != nil {
			s.take()
		}
	}
	return time.Now()
}

// serverUsage is what the two servers used between from and to (zero for
// one not sampled).
func (b *bench) serverUsage(from, to time.Time) (clickhouse, kafka usage) {
	if b.chServer != nil {
		clickhouse, _ = b.chServer.span(from, to)
	}
	if b.kafkaServer != nil {
		kafka, _ = b.kafkaServer.span(from, to)
	}
	return clickhouse, kafka
}

// name is a name for something the benchmark creates, unique to this run.
func (b *bench) name(label string) string { return b.id + "-" + label }

// cleanup registers f to run when the benchmark ends, in reverse order of
// registration, even after a failure.
func (b *bench) cleanup(f func(context.Context) error) { b.cleanups = append(b.cleanups, f) }

// close runs the cleanups with a context of their own (the benchmark's may
// be cancelled by then) and stops the samplers.
func (b *bench) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var errs []error
	for i := len(b.cleanups) - 1; i >= 0; i-- {
		if err := b.cleanups[i](ctx); err != nil {
			errs = append(errs, err)
		}
	}
	b.stopSampling()
	b.sampling.Wait()
	b.ch.Close()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("cleaning up: %w", err)
	}
	return nil
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(b.progress, "cohortbench: "+format+"\n", args...)
}
