package redrive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/cohortline/cohortline/pipeline"
)

// Reading Kafka: offsets, and one partition's messages between two
// offsets, with a kafka-go connection outside any consumer group (the own
// Fetch client skips headers, which a re-drive needs).

// stallTimeout bounds one fetch. A partition that gives nothing below the
// end it had when the re-drive began fails the read: a re-drive never
// stops short silently (a short scan of the input topic would produce
// copies twice).
const stallTimeout = 30 * time.Second

// offsets lists one topic's offsets, every partition at once.
type offsets struct {
	d       *pipeline.Dialer
	brokers []string
	topic   string
	n       int
}

func newOffsets(d *pipeline.Dialer, brokers []string, topic string, n int) *offsets {
	return &offsets{d: d, brokers: brokers, topic: topic, n: n}
}

func (o *offsets) list(ctx context.Context, req func(p int) kafka.OffsetRequest) ([]int64, error) {
	return pipeline.ListOffsets(ctx, o.d, o.brokers, o.topic, o.n, req)
}

func (o *offsets) firsts(ctx context.Context) ([]int64, error) {
	return o.list(ctx, kafka.FirstOffsetOf)
}

func (o *offsets) ends(ctx context.Context) ([]int64, error) {
	return o.list(ctx, kafka.LastOffsetOf)
}

// at returns, per partition, the first offset whose timestamp is t or
// later (ends[p] when there is none).
func (o *offsets) at(ctx context.Context, t time.Time, ends []int64) ([]int64, error) {
	out, err := o.list(ctx, func(p int) kafka.OffsetRequest { return kafka.TimeOffsetOf(p, t) })
	for p, off := range out {
		if off < 0 {
			out[p] = ends[p]
		}
	}
	return out, err
}

// readPartition hands each message of topic's partition in [from, to) to
// handle, in order. It reads on one connection to the leader, without the
// Reader's read-ahead: nothing is fetched past to, and closing waits for
// nothing.
func readPartition(ctx context.Context, d *pipeline.Dialer, brokers []string, topic string, partition int, from, to int64, handle func(kafka.Message)) error {
	if from >= to {
		return nil
	}
	conn, err := d.KafkaDialer().DialLeader(ctx, "tcp", brokers[0], topic, partition)
	if err != nil {
		return fmt.Errorf("connecting to the leader of topic %q partition %d: %w", topic, partition, err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()
	for next := from; next < to; {
		if _, err := conn.Seek(next, kafka.SeekAbsolute); err != nil {
			return fmt.Errorf("reading topic %q partition %d at offset %d: %w", topic, partition, next, err)
		}
		conn.SetReadDeadline(time.Now().Add(stallTimeout))
		batch := conn.ReadBatchWith(kafka.ReadBatchConfig{MinBytes: 1, MaxBytes: 8 << 20, MaxWait: time.Second})
		began := next
		for next < to {
			m, err := batch.ReadMessage()
			if err != nil {
				break
			}
			if m.Offset < next {
				continue // a compressed batch starts before the offset asked for
			}
			m.Topic, m.Partition = topic, partition
			handle(m)
			next = m.Offset + 1
		}
		err := batch.Close()
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case err != nil && !errors.Is(err, io.EOF):
			return fmt.Errorf("reading topic %q partition %d at offset %d: %w", topic, partition, next, err)
		case next == began:
			return fmt.Errorf("reading topic %q partition %d: nothing at offset %d, below its end %d when the re-drive began (deleted by retention meanwhile?)", topic, partition, next, to)
		}
	}
	return nil
}
