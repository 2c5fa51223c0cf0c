package redrive

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/cohortline/cohortline/cohorts"
	"github.com/cohortline/cohortline/pipeline"
	"github.com/cohortline/cohortline/schemas"
)

// Config is one re-drive. Brokers, Dialer, Topic, DeadLetterTopic and
// Spec come from the pipeline's config (kafka and cohorts sections), so
// the re-drive judges messages as the pipeline will.
type Config struct {
	Brokers         []string
	Dialer          *pipeline.Dialer // TLS and SASL; nil: plaintext
	Topic           string           // the input topic the copies go to
	DeadLetterTopic string
	Reasons         Reasons
	Range           Range
	// KeyByUser produces each copy keyed by its event's user token, as a
	// fixed producer keys it, rather than by the dead letter's key: what
	// re-drives key_mismatch dead letters (into their user's partition);
	// every other valid event is keyed so already.
	KeyByUser bool
	// DryRun reads and judges everything and produces nothing.
	DryRun bool
	Spec   *cohorts.Spec
	// MaxFutureSkew is kafka.max_future_skew: the decoder's upper bound
	// on event times is now plus it, as the consumer's.
	MaxFutureSkew time.Duration
	// Watermarks gives each input partition's last flush, for the late
	// check (clickhouse.Writer); nil skips it.
	Watermarks Watermarks
	Now        time.Time // zero: time.Now()
}

// Watermarks is where the pipeline's flushes are recorded: the watermark
// of a partition's last flush says which windows are closed.
type Watermarks interface {
	LastFlush(ctx context.Context, topic string, partition int) (schemas.Flush, bool, error)
}

// clockSkew is how far the scan for copies starts before the oldest
// chosen dead letter: the pipeline's host stamped the dead letter, the
// re-drive's host stamps the copy, and their clocks may differ.
const clockSkew = 10 * time.Minute

// writeBatch is how many copies one WriteMessages call takes.
const writeBatch = 1000

// Run re-drives the dead letters of cfg's range and reasons and says what
// it did; on an error the report counts what was done before it (a run
// again completes the rest: the copies made are skipped).
func Run(ctx context.Context, cfg Config) (*Report, error) {
	began := time.Now()
	now := cfg.Now
	if now.IsZero() {
		now = began
	}
	d, brokers := cfg.Dialer, cfg.Brokers
	dlqN, err := pipeline.PartitionCount(ctx, d, brokers, cfg.DeadLetterTopic)
	if err != nil {
		return nil, fmt.Errorf("dead-letter topic %q: %w (nothing was dead-lettered yet, or kafka.dead_letter_topic names another topic)", cfg.DeadLetterTopic, err)
	}
	inN, err := pipeline.PartitionCount(ctx, d, brokers, cfg.Topic)
	if err != nil {
		return nil, fmt.Errorf("input topic %q: %w", cfg.Topic, err)
	}
	spans, err := cfg.Range.resolve(ctx, newOffsets(d, brokers, cfg.DeadLetterTopic, dlqN), dlqN)
	if err != nil {
		return nil, err
	}
	rep := newReport(cfg, spans)
	j := newJudge(cfg.Reasons, cfg.Topic, cfg.Spec, cfg.MaxFutureSkew, now, inN)
	j.keyByUser = cfg.KeyByUser
	chosen, err := readChosen(ctx, cfg, spans, j, rep)
	if err != nil {
		return rep, err
	}
	if len(chosen) > 0 {
		if err := scanCopies(ctx, cfg, inN, chosen, j, rep); err != nil {
			return rep, err
		}
		if cfg.Watermarks != nil {
			if j.watermarks, err = watermarks(ctx, cfg.Watermarks, cfg.Topic, inN); err != nil {
				return rep, err
			}
		}
	}
	var out []kafka.Message
	for i := range chosen {
		l := &chosen[i]
		v, reason := j.verdict(l, cfg.DeadLetterTopic)
		rep.count(l, v, reason)
		if v == produce {
			out = append(out, kafka.Message{Key: l.key, Value: l.value, Headers: []kafka.Header{{Key: HeaderRedrivenFrom, Value: []byte(l.name(cfg.DeadLetterTopic))}}})
		}
	}
	if !cfg.DryRun && len(out) > 0 {
		err = write(ctx, cfg, out, rep)
	}
	rep.Took = time.Since(began)
	return rep, err
}

// readChosen reads the spans of the dead-letter topic and returns the
// dead letters of the chosen reasons that have a payload.
func readChosen(ctx context.Context, cfg Config, spans []Span, j *judge, rep *Report) ([]letter, error) {
	var chosen []letter
	for _, s := range spans {
		err := readPartition(ctx, cfg.Dialer, cfg.Brokers, cfg.DeadLetterTopic, s.Partition, s.From, s.To, func(m kafka.Message) {
			rep.Read++
			l := letterOf(m)
			switch j.chosen(&l) {
			case notChosen:
				return
			case noPayload:
				rep.NoPayload++
			default:
				chosen = append(chosen, l)
			}
			if l.reason != schemas.ReasonPIISuspected {
				rep.Matched++
			}
		})
		if err != nil {
			return chosen, fmt.Errorf("reading dead letters: %w", err)
		}
	}
	return chosen, nil
}

// scanCopies reads the input topic for copies of earlier re-drives: from
// the first message at or after the oldest chosen dead letter's time (no
// copy of it can be older), less clockSkew, or earlier where a chosen dead letter names an
// older message of the input topic (a copy rejected again), to the end.
func scanCopies(ctx context.Context, cfg Config, inN int, chosen []letter, j *judge, rep *Report) error {
	began := time.Now()
	oldest := chosen[0].time
	for _, l := range chosen {
		if l.time.Before(oldest) {
			oldest = l.time
		}
	}
	oldest = oldest.Add(-clockSkew)
	offs := newOffsets(cfg.Dialer, cfg.Brokers, cfg.Topic, inN)
	ends, err := offs.ends(ctx)
	if err != nil {
		return err
	}
	firsts, err := offs.firsts(ctx)
	if err != nil {
		return err
	}
	starts, err := offs.at(ctx, oldest, ends)
	if err != nil {
		return err
	}
	for _, l := range chosen {
		if l.originTopic == cfg.Topic && l.originPartition >= 0 && l.originPartition < inN {
			starts[l.originPartition] = min(starts[l.originPartition], l.originOffset)
		}
	}
	for p := range inN {
		err := readPartition(ctx, cfg.Dialer, cfg.Brokers, cfg.Topic, p, max(starts[p], firsts[p]), ends[p], func(m kafka.Message) {
			rep.Scanned++
			for _, h := range m.Headers {
				if h.Key == HeaderRedrivenFrom {
					j.names[string(h.Value)] = true
					j.copies[position{p, m.Offset}] = true
				}
			}
		})
		if err != nil {
			return fmt.Errorf("scanning the input topic for earlier re-drives: %w", err)
		}
	}
	rep.ScanTook = time.Since(began)
	return nil
}

// watermarks reads each input partition's last flush; math.MinInt64 for
// a partition that never flushed.
func watermarks(ctx context.Context, src Watermarks, topic string, n int) ([]int64, error) {
	out := make([]int64, n)
	for p := range n {
		f, ok, err := src.LastFlush(ctx, topic, p)
		if err != nil {
			return nil, fmt.Errorf("reading the watermarks of topic %q for the late check: %w", topic, err)
		}
		out[p] = math.MinInt64
		if ok {
			out[p] = f.Watermark
		}
	}
	return out, nil
}

// write produces the copies, keyed as the originals: murmur2 of the key,
// as a Java producer and `cohortline gen` partition, so each lands in its
// user's partition.
func write(ctx context.Context, cfg Config, msgs []kafka.Message, rep *Report) error {
	w := &kafka.Writer{
		Addr: kafka.TCP(cfg.Brokers...), Topic: cfg.Topic, Balancer: kafka.Murmur2Balancer{},
		BatchSize: writeBatch, BatchBytes: 1 << 20, BatchTimeout: 5 * time.Millisecond,
		RequiredAcks: kafka.RequireAll, Compression: kafka.Lz4, Transport: cfg.Dialer.Transport(),
	}
	defer w.Close()
	for len(msgs) > 0 {
		batch := msgs[:min(writeBatch, len(msgs))]
		msgs = msgs[len(batch):]
		// Set here rather than left to the client: later than every dead
		// letter read, which the next re-drive's scan relies on.
		now := time.Now()
		for i := range batch {
			batch[i].Time = now
		}
		err := w.WriteMessages(ctx, batch...)
		var werrs kafka.WriteErrors
		switch {
		case errors.As(err, &werrs):
			for _, e := range werrs {
				if e == nil {
					rep.Written++
				}
			}
			fallthrough
		case err != nil:
			return fmt.Errorf("producing re-driven messages to topic %q (%d written): %w", cfg.Topic, rep.Written, err)
		}
		rep.Written += int64(len(batch))
	}
	return nil
}
