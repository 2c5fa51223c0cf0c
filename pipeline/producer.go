package pipeline

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"
	"golang.org/x/sync/errgroup"
)

// Record is one message for Produce. Its Key and Value may be reused by
// the source once it hands out the next record: Produce copies them.
type Record struct {
	Key, Value []byte
	// Time is the message timestamp: the event time, as a producer that
	// sends events when they happen gives them (backfill finds a time
	// range's offsets by it).
	Time time.Time
}

// Producer batching: big sync batches keep the writer's per-call latency
// (BatchTimeout) off the throughput. BatchBytes counts uncompressed bytes
// and stays at the broker's default message.max.bytes (1 MiB), so that a
// batch is never refused whatever compression achieves.
const (
	produceBatchSize    = 10000
	produceBatchBytes   = 1 << 20
	produceBatchTimeout = 5 * time.Millisecond
	produceBatches      = 3 // in flight: one filling, one writing, one spare
)

// Produce writes every record next hands out (ok=false at the end) to
// topic at addr, creating it with partitions partitions unless it exists.
// Records are partitioned by key as a Java producer does (murmur2), so that
// one user's events share a partition. It fills a batch on this goroutine
// while another writes the previous one, so the source and the network
// overlap. When sent is not nil it counts the records the broker has
// acknowledged (the demo's progress). It is what `cohortline gen` and the
// demo produce with.
func Produce(ctx context.Context, d *Dialer, addr, topic string, partitions int, next func() (Record, bool), sent *atomic.Int64) error {
	if err := EnsureTopic(ctx, d, addr, topic, partitions); err != nil {
		return err
	}
	w := &kafka.Writer{
		Addr:         kafka.TCP(addr),
		Topic:        topic,
		Balancer:     kafka.Murmur2Balancer{}, // the partition a Java producer picks for the key
		BatchSize:    produceBatchSize,
		BatchBytes:   produceBatchBytes,
		BatchTimeout: produceBatchTimeout,
		RequiredAcks: kafka.RequireOne,
		Compression:  kafka.Lz4,
		Transport:    d.Transport(),
	}
	free := make(chan *produceBatch, produceBatches)
	for range produceBatches {
		free <- &produceBatch{msgs: make([]kafka.Message, 0, produceBatchSize)}
	}
	full := make(chan *produceBatch)
	grp, ctx := errgroup.WithContext(ctx)
	grp.Go(func() error {
		for b := range full {
			if err := w.WriteMessages(ctx, b.msgs...); err != nil {
				return fmt.Errorf("producing to topic %q at %s (%s): %w", topic, addr, d, err)
			}
			if sent != nil {
				sent.Add(int64(len(b.msgs)))
			}
			free <- b
		}
		return nil
	})
	grp.Go(func() error {
		defer close(full)
		for {
			var b *produceBatch
			select {
			case b = <-free:
			case <-ctx.Done():
				return ctx.Err()
			}
			if !b.fill(next) {
				return nil
			}
			select {
			case full <- b:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	})
	err := grp.Wait()
	if cerr := w.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("flushing to topic %q: %w", topic, cerr)
	}
	return err
}

// produceBatch holds copies of records: the source reuses its buffers.
type produceBatch struct {
	arena []byte
	ends  []int // end of each record's key, then of its value, in arena
	times []time.Time
	msgs  []kafka.Message
}

// fill copies up to produceBatchSize records into b and reports whether it
// got any.
func (b *produceBatch) fill(next func() (Record, bool)) bool {
	b.arena, b.ends, b.times, b.msgs = b.arena[:0], b.ends[:0], b.times[:0], b.msgs[:0]
	for len(b.ends) < 2*produceBatchSize {
		rec, ok := next()
		if !ok {
			break
		}
		b.times = append(b.times, rec.Time)
		b.arena = append(b.arena, rec.Key...)
		b.ends = append(b.ends, len(b.arena))
		b.arena = append(b.arena, rec.Value...)
		b.ends = append(b.ends, len(b.arena))
	}
	// Slice only now: appends above may have moved the arena.
	start := 0
	for i := 0; i < len(b.ends); i += 2 {
		k, v := b.ends[i], b.ends[i+1]
		b.msgs = append(b.msgs, kafka.Message{Key: b.arena[start:k:k], Value: b.arena[k:v:v], Time: b.times[i/2]})
		start = v
	}
	return len(b.msgs) > 0
}
