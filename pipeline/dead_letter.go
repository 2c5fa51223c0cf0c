package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"

	"github.com/segmentio/kafka-go"

	"github.com/cohortline/cohortline/schemas"
)

// DeadLetter is a rejected message on its way to the dead-letter topic.
type DeadLetter struct {
	Topic     string
	Partition int
	Offset    int64
	Reason    schemas.Reason
	// Key and Value are the original message's, or nil for pii_suspected:
	// a message suspected of carrying a phone number or e-mail address is
	// dead-lettered by position and reason only. They point into the
	// partition reader's buffers, valid only during Add: an Add that keeps
	// them copies them.
	Key, Value []byte
}

// DeadLetters receives a worker's rejected messages. Add may buffer; Flush
// makes everything added so far durable. The worker flushes before it
// commits offsets, so a rejected message is never lost to a commit (it may
// be dead-lettered twice after a crash: at least once, by design).
type DeadLetters interface {
	Add(ctx context.Context, dl DeadLetter) error
	Flush(ctx context.Context) error
}

// Headers of dead-letter messages. They let an operator find the original
// message and re-drive it after fixing the producer.
const (
	HeaderReason    = "cohortline-reason"
	HeaderTopic     = "cohortline-topic"
	HeaderPartition = "cohortline-partition"
	HeaderOffset    = "cohortline-offset"
)

// kafkaDeadLetters buffers one worker's dead letters and writes them with a
// kafka-go Writer shared by all workers (a Writer is safe for concurrent
// use). Buffering matters: a synchronous write per message would cap the
// worker at a few hundred bad messages per second.
type kafkaDeadLetters struct {
	writer    *kafka.Writer
	buf       []kafka.Message
	limit     int
	partition int                   // the source partition, for the log
	classes   [numRejectClasses]int // of buf, by reason class, for the log
	log       *slog.Logger
	health    Health // nil: failures are only returned
	brokers   string // for health
}

func newKafkaDeadLetters(w *kafka.Writer, limit, partition int, log *slog.Logger) *kafkaDeadLetters {
	return &kafkaDeadLetters{writer: w, limit: limit, partition: partition, log: log}
}

func (d *kafkaDeadLetters) Add(ctx context.Context, dl DeadLetter) error {
	d.buf = append(d.buf, kafka.Message{
		Key:   cloneBytes(dl.Key),
		Value: cloneBytes(dl.Value),
		Headers: []kafka.Header{
			{Key: HeaderReason, Value: []byte(dl.Reason)},
			{Key: HeaderTopic, Value: []byte(dl.Topic)},
			{Key: HeaderPartition, Value: strconv.AppendInt(nil, int64(dl.Partition), 10)},
			{Key: HeaderOffset, Value: strconv.AppendInt(nil, dl.Offset, 10)},
		},
	})
	d.classes[rejectClass(dl.Reason)]++
	if len(d.buf) >= d.limit {
		return d.Flush(ctx)
	}
	return nil
}

func (d *kafkaDeadLetters) Flush(ctx context.Context) error {
	if len(d.buf) == 0 {
		return nil
	}
	if err := d.writer.WriteMessages(ctx, d.buf...); err != nil {
		err = fmt.Errorf("writing %d dead letters to %q: %w", len(d.buf), d.writer.Topic, err)
		if d.health != nil && ctx.Err() == nil {
			d.health.Failed(linkDeadLetters, d.brokers, err)
		}
		return err
	}
	if d.health != nil {
		d.health.Recovered(linkDeadLetters)
	}
	d.logWritten()
	clear(d.buf)
	d.buf = d.buf[:0]
	return nil
}

// cloneBytes copies b, keeping nil as nil: the reader's fetch buffers are
// reused, dead letters outlive them.
func cloneBytes(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte(nil), b...)
}

// logWritten logs a batch just written: how many, by reason class (a fixed
// set), never a key or payload.
func (d *kafkaDeadLetters) logWritten() {
	reasons := make([]any, 0, numRejectClasses)
	for i, n := range d.classes {
		if n > 0 {
			reasons = append(reasons, slog.Int(rejectClasses[i], n))
		}
	}
	d.log.Info("dead letters written", "dead_letter_topic", d.writer.Topic, "partition", d.partition,
		"count", len(d.buf), slog.Group("reasons", reasons...))
	d.classes = [numRejectClasses]int{}
}
