package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"
	"golang.org/x/sync/errgroup"

	"github.com/cohortline/cohortline/pipeline"
)

// rawFetchBytes and rawFetchWait are the fetch sizes of both raw readers:
// those of the pipeline's partitionReader, so that (a) measures the I/O
// that (b) does.
const (
	rawFetchBytes = 4 << 20
	rawFetchWait  = 250 * time.Millisecond
)

// readResult is one raw read of a whole topic.
type readResult struct {
	Messages int64
	Bytes    int64 // message values
	Wall     time.Duration
}

// readWithReader reads every partition from its first offset to its end
// with one kafka.Reader per partition, all at once, doing nothing with the
// messages: the plain kafka-go consumer.
func readWithReader(ctx context.Context, d *pipeline.Dialer, addr, topic string, ranges []partitionRange) (readResult, error) {
	return readAll(ctx, ranges, func(ctx context.Context, r partitionRange, count *readResult) error {
		rd := kafka.NewReader(kafka.ReaderConfig{
			Brokers: []string{addr}, Topic: topic, Partition: r.Partition,
			MinBytes: 1, MaxBytes: rawFetchBytes, MaxWait: rawFetchWait, Dialer: d.KafkaDialer(),
		})
		defer rd.Close()
		if err := rd.SetOffset(r.First); err != nil {
			return err
		}
		for next := r.First; next < r.End; {
			m, err := rd.FetchMessage(ctx)
			if err != nil {
				return err
			}
			count.Messages++
			count.Bytes += int64(len(m.Value))
			next = m.Offset + 1
		}
		return nil
	})
}

// readWithBatches reads every partition the way the pipeline did before
// its own fetch client (pipeline/fetch_conn.go): a connection to the
// leader per partition and a loop of kafka-go's Conn.ReadBatch, handing
// each message to visit, which may be nil. It stays on kafka-go: stage (a)
// is kafka-go's read rate.
func readWithBatches(ctx context.Context, d *pipeline.Dialer, addr, topic string, ranges []partitionRange, visit func(kafka.Message)) (readResult, error) {
	return readAll(ctx, ranges, func(ctx context.Context, r partitionRange, count *readResult) error {
		conn, err := d.KafkaDialer().DialLeader(ctx, "tcp", addr, topic, r.Partition)
		if err != nil {
			return err
		}
		defer conn.Close()
		stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
		defer stop()
		for next := r.First; next < r.End; {
			if _, err := conn.Seek(next, kafka.SeekAbsolute|kafka.SeekDontCheck); err != nil {
				return err
			}
			conn.SetReadDeadline(time.Now().Add(30 * time.Second))
			batch := conn.ReadBatchWith(kafka.ReadBatchConfig{MinBytes: 1, MaxBytes: rawFetchBytes})
			for {
				m, err := batch.ReadMessage()
				if err != nil {
					break // io.EOF at the end of the batch; Close returns anything else
				}
				if visit != nil {
					visit(m)
				}
				count.Messages++
				count.Bytes += int64(len(m.Value))
				next = m.Offset + 1
			}
			if err := batch.Close(); err != nil && !errors.Is(err, kafka.RequestTimedOut) {
				return err
			}
		}
		return nil
	})
}

// readAll runs read on every partition at once, one goroutine each, and
// adds up what they read.
func readAll(ctx context.Context, ranges []partitionRange, read func(context.Context, partitionRange, *readResult) error) (readResult, error) {
	counts := make([]readResult, len(ranges))
	g, ctx := errgroup.WithContext(ctx)
	began := time.Now()
	for i, r := range ranges {
		if r.End <= r.First {
			continue
		}
		g.Go(func() error {
			if err := read(ctx, r, &counts[i]); err != nil {
				return fmt.Errorf("reading partition %d from offset %d to %d: %w", r.Partition, r.First, r.End, err)
			}
			return nil
		})
	}
	err := g.Wait()
	total := readResult{Wall: time.Since(began)}
	for _, c := range counts {
		total.Messages += c.Messages
		total.Bytes += c.Bytes
	}
	return total, err
}
