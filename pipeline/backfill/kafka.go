package backfill

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/cohortline/cohortline/cohorts"
	"github.com/cohortline/cohortline/pipeline"
	"github.com/cohortline/cohortline/pipeline/internal/kafkawire"
)

// PlanKafka finds, for each partition of topic, the offsets a backfill of
// the windows starting in [from, to) reads: from the first message with a
// timestamp at or after from minus the allowed lateness, to the partition's
// end now. It also finds where the range should be read through (the
// first message at or after to plus the lateness and maxOutOfOrder), for
// progress; the reading itself stops as soon as the watermark closes the
// range's last window, at the same message streaming closed it.
//
// Message timestamps must not run ahead of event times by more than the
// allowed lateness: Kafka's default CreateTime, set by the producer when it
// sends an event, is later than the event's time, and cohortline gen sets
// it to the event time. Then every event of the range is at or after the
// start offset, and every message before it has an earlier timestamp, so it
// could not have closed a window of the range: streaming's watermark and the
// backfill's agree on every window of the range.
func PlanKafka(ctx context.Context, d *pipeline.Dialer, brokers []string, topic string, spec *cohorts.Spec, maxOutOfOrder time.Duration, from, to time.Time) ([]PartitionCheckpoint, error) {
	n, err := pipeline.PartitionCount(ctx, d, brokers, topic)
	if err != nil {
		return nil, fmt.Errorf("reading the partitions of topic %q: %w", topic, err)
	}
	lateness := spec.AllowedLateness
	ends, err := pipeline.ListOffsets(ctx, d, brokers, topic, n, func(p int) kafka.OffsetRequest { return kafka.LastOffsetOf(p) })
	if err != nil {
		return nil, err
	}
	firsts, err := pipeline.ListOffsets(ctx, d, brokers, topic, n, func(p int) kafka.OffsetRequest { return kafka.FirstOffsetOf(p) })
	if err != nil {
		return nil, err
	}
	starts, err := pipeline.ListOffsets(ctx, d, brokers, topic, n, func(p int) kafka.OffsetRequest { return kafka.TimeOffsetOf(p, from.Add(-lateness)) })
	if err != nil {
		return nil, err
	}
	expects, err := pipeline.ListOffsets(ctx, d, brokers, topic, n, func(p int) kafka.OffsetRequest {
		return kafka.TimeOffsetOf(p, to.Add(lateness+maxOutOfOrder))
	})
	if err != nil {
		return nil, err
	}
	out := make([]PartitionCheckpoint, n)
	for p := range n {
		start, expect := starts[p], expects[p]
		if start < 0 { // no message at or after the time: nothing of the range
			start = ends[p]
		}
		if expect < 0 {
			expect = ends[p]
		}
		if err := checkRetention(topic, p, start, firsts[p], ends[p], from.Add(-lateness)); err != nil {
			return nil, err
		}
		out[p] = PartitionCheckpoint{Partition: p, Start: start, End: ends[p], Expect: max(start, expect)}
	}
	return out, nil
}

// checkRetention refuses a partition whose range may have lost messages
// to retention: the first message of the range's lead-in (start, or the
// end when none is at or after leadIn) is the oldest one left (first),
// and something was deleted before it (first > 0). Deleted messages have
// earlier offsets and, timestamps following offsets, earlier times than
// start's: some of them may have been in the range. That includes a
// partition emptied by retention (first == end > 0), which the range
// would otherwise read as empty, replacing its windows with nothing: seen
// as "read 0 messages … 2 windows × 4 partitions replaced", exit 0.
func checkRetention(topic string, p int, start, first, end int64, leadIn time.Time) error {
	if start != first || first == 0 {
		return nil
	}
	if first == end {
		return fmt.Errorf("topic %q partition %d: retention has deleted every message (offsets 0 to %d): the range (%s onwards) may have had some; backfill it from archived files (--files)",
			topic, p, end, leadIn.Format(time.RFC3339))
	}
	return fmt.Errorf("topic %q partition %d: the oldest message left (offset %d) is already inside the range's lead-in (%s onwards): retention has deleted part of the range; backfill it from archived files (--files)",
		topic, p, start, leadIn.Format(time.RFC3339))
}

// maxFetchFailures is how many fetches in a row may fail (each retried
// after a second) before a partition gives up.
const maxFetchFailures = 10

// RunKafka reads every partition not done yet from brokers, Parallel at a
// time, outside any consumer group: the live group's offsets and
// assignments are untouched. d secures the connections (nil: plaintext).
func (b *Job) RunKafka(ctx context.Context, d *pipeline.Dialer, brokers []string) error {
	return b.runPartitions(ctx, b.cfg.Parallel, func(ctx context.Context, p *partitionJob) error {
		return b.readKafkaPartition(ctx, d, brokers, p)
	})
}

func (b *Job) readKafkaPartition(ctx context.Context, d *pipeline.Dialer, brokers []string, p *partitionJob) error {
	defer p.w.Release()
	if err := p.resume(ctx); err != nil {
		return err
	}
	offset := p.offset.Load()
	if offset >= p.end {
		return p.finish(ctx)
	}
	reader := kafkawire.NewPartitionReader(d.KafkaDialer(), brokers, b.cfg.Topic, p.id, offset)
	defer reader.Close()
	handle := func(m kafka.Message) error { return p.handle(ctx, m) }
	for failures := 0; ; {
		_, err := reader.Fetch(ctx, handle)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var herr kafkawire.HandlerError
		switch {
		case errors.As(err, &herr) && errors.Is(herr.Err, errRangeRead):
			return p.finish(ctx)
		case errors.As(err, &herr):
			return herr.Err
		case err != nil:
			failures++
			if failures >= maxFetchFailures {
				return fmt.Errorf("reading topic %q partition %d at offset %d: %w", b.cfg.Topic, p.id, reader.Offset(), err)
			}
			b.log.Warn("backfill fetch failed; retrying", "topic", b.cfg.Topic, "partition", p.id, "failures", failures, "err", err)
			select {
			case <-time.After(time.Second):
			case <-ctx.Done():
				return ctx.Err()
			}
			continue
		}
		failures = 0
		if reader.Offset() >= p.end {
			return p.finish(ctx)
		}
	}
}
