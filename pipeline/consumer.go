package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/cohortline/cohortline/cohorts"
)

// Consumer is the streaming pipeline of one instance: it joins the consumer
// group and runs one partition worker per assigned partition.
//
// Goroutines: Run owns the group loop; kafka-go's generation runs one
// goroutine per assigned partition (consumePartition) and waits for all of
// them before the next generation starts. A partition goroutine owns its
// reader, worker and dead-letter buffer; the only shared things are the
// sink, the dead-letter writer (both safe for concurrent use) and the
// counters and gauges maps (guarded by mu), which the metrics collector
// reads (metrics.go).
type Consumer struct {
	cfg    Config
	worker workerConfig
	sink   Sink
	dead   *kafka.Writer
	log    *slog.Logger
	now    func() time.Time

	mu       sync.Mutex
	counters map[int]*Counters        // by partition, kept across generations
	gauges   map[int]*partitionGauges // by partition, while assigned
	joined   atomic.Bool              // see Joined
}

// NewConsumer checks cfg and prepares a consumer; Run starts it.
func NewConsumer(cfg Config, spec *cohorts.Spec, rekey *cohorts.Rekeyer, sink Sink, log *slog.Logger) (*Consumer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Consumer{
		cfg:    cfg,
		worker: workerConfig{Spec: spec, Rekey: rekey, MaxOutOfOrder: cfg.MaxOutOfOrder},
		sink:   sink,
		dead: &kafka.Writer{
			Addr: kafka.TCP(cfg.Brokers...), Topic: cfg.DeadLetterTopic,
			Balancer: &kafka.Murmur2Balancer{}, RequiredAcks: kafka.RequireAll,
			AllowAutoTopicCreation: true, BatchTimeout: 10 * time.Millisecond,
		},
		log:      log,
		now:      time.Now,
		counters: map[int]*Counters{},
		gauges:   map[int]*partitionGauges{},
	}, nil
}

// Run consumes until ctx is cancelled, then returns nil once every
// partition goroutine has stopped. Windows still open are dropped, not
// flushed: their messages are after the last commit and will be read again.
func (c *Consumer) Run(ctx context.Context) error {
	if err := ensureDeadLetterTopic(ctx, c.cfg.Brokers, c.cfg.Topic, c.cfg.DeadLetterTopic); err != nil {
		return err
	}
	group, err := kafka.NewConsumerGroup(kafka.ConsumerGroupConfig{
		ID: c.cfg.Group, Brokers: c.cfg.Brokers, Topics: []string{c.cfg.Topic},
		StartOffset: kafka.FirstOffset,
	})
	if err != nil {
		return fmt.Errorf("joining consumer group %q on %v: %w", c.cfg.Group, c.cfg.Brokers, err)
	}
	// Deferred calls run last-in first-out: the group closes first and waits
	// for the partition goroutines, so no worker writes to a closed
	// dead-letter writer.
	defer c.dead.Close()
	defer group.Close()
	defer c.joined.Store(false)
	for {
		gen, err := group.Next(ctx)
		if ctx.Err() != nil {
			return nil
		}
		c.joined.Store(err == nil)
		if err != nil {
			c.log.Warn("consumer group: waiting for the next generation", "group", c.cfg.Group, "err", err)
			if !sleep(ctx, c.cfg.RestartBackoff) {
				return nil
			}
			continue
		}
		assigned := gen.Assignments[c.cfg.Topic]
		c.log.Info("consumer group: partitions assigned", "generation", gen.ID, "topic", c.cfg.Topic, "partitions", len(assigned))
		for _, a := range assigned {
			partition, offset := a.ID, a.Offset
			gen.Start(func(ctx context.Context) { c.runPartition(ctx, gen, partition, offset) })
		}
	}
}

// runPartition keeps a worker on the partition until the generation ends.
// kafka-go ends the whole generation as soon as one function given to
// gen.Start returns, so a worker that fails is restarted here, from the last
// committed offset, after a backoff: as if the process had crashed.
func (c *Consumer) runPartition(ctx context.Context, gen *kafka.Generation, partition int, offset int64) {
	c.log.Info("partition assigned", "topic", c.cfg.Topic, "partition", partition, "offset", offset, "generation", gen.ID)
	g := c.attach(partition)
	defer c.detach(partition, g)
	defer c.log.Info("partition revoked", "topic", c.cfg.Topic, "partition", partition, "generation", gen.ID)
	for {
		committed, err := c.consumePartition(ctx, gen, partition, offset, g)
		if ctx.Err() != nil {
			return
		}
		if committed >= 0 {
			offset = committed
		}
		c.countersOf(partition).Restarts.Add(1)
		c.log.Error("partition worker failed; restarting from the last commit",
			"topic", c.cfg.Topic, "partition", partition, "offset", offset, "backoff", c.cfg.RestartBackoff, "err", err)
		if !sleep(ctx, c.cfg.RestartBackoff) {
			return
		}
	}
}

// consumePartition reads the partition from offset through a fresh worker.
// It returns the last offset the worker committed (-1 if none) and why it
// stopped; it stops only on ctx or an error.
func (c *Consumer) consumePartition(ctx context.Context, gen *kafka.Generation, partition int, offset int64, g *partitionGauges) (int64, error) {
	reader := kafka.NewReader(kafka.ReaderConfig{
		Brokers: c.cfg.Brokers, Topic: c.cfg.Topic, Partition: partition,
		MinBytes: 1, MaxBytes: 8 << 20, MaxWait: 250 * time.Millisecond,
	})
	defer reader.Close()
	if err := reader.SetOffset(offset); err != nil {
		return -1, fmt.Errorf("seeking %s/%d to offset %d: %w", c.cfg.Topic, partition, offset, err)
	}
	commit := func(_ context.Context, offset int64) error {
		return gen.CommitOffsets(map[string]map[int]int64{c.cfg.Topic: {partition: offset}})
	}
	dead := newKafkaDeadLetters(c.dead, c.cfg.DeadLetterBatch, partition, c.log)
	w := newPartitionWorker(c.worker, c.cfg.Topic, partition, c.sink, dead, commit, c.countersOf(partition))
	w.gauges, w.log = g, c.log
	if err := w.resume(ctx); err != nil {
		return w.committed, err
	}
	lagKnown := false // see partitionGauges.reader
	// One deadline per idle period, not per message: a context per fetch
	// cost a fifth of the CPU. The partition is idle when a whole period
	// passed without a message, so idle windows close between one and two
	// idle timeouts after the last message.
	var period context.Context
	endPeriod := context.CancelFunc(func() {})
	newPeriod := func() {
		endPeriod()
		period, endPeriod = context.WithTimeout(ctx, c.cfg.IdleTimeout)
	}
	newPeriod()
	defer func() { endPeriod() }()
	fetched := 0 // messages in the current period
	for n := 0; ; n++ {
		if n%4096 == 0 {
			// Events too far in the future are rejected relative to the clock.
			w.decoder.MaxTS = c.now().Add(c.cfg.MaxFutureSkew).UnixMilli()
		}
		m, err := reader.FetchMessage(period)
		switch {
		case err == nil:
			fetched++
			if !lagKnown {
				g.reader.Store(reader)
				lagKnown = true
			}
			err = w.handle(ctx, m)
		case ctx.Err() != nil:
			return w.committed, ctx.Err()
		case errors.Is(err, context.DeadlineExceeded):
			err = nil
			if fetched == 0 {
				err = w.idle(ctx, c.now())
			}
			newPeriod()
			fetched = 0
		default:
			err = fmt.Errorf("reading %s/%d: %w", c.cfg.Topic, partition, err)
		}
		if err != nil {
			return w.committed, err
		}
	}
}

// countersOf returns the partition's counters, creating them on first use.
func (c *Consumer) countersOf(partition int) *Counters {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.counters[partition] == nil {
		c.counters[partition] = &Counters{}
	}
	return c.counters[partition]
}

// Counters returns a snapshot of the per-partition counters (read them with
// their atomic Load methods).
func (c *Consumer) Counters() map[int]*Counters {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.counters)
}

// sleep waits d or until ctx is done; it reports whether d elapsed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
