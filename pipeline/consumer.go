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
	"github.com/cohortline/cohortline/pipeline/internal/kafkawire"
)

// Consumer is the streaming pipeline of one instance: it joins the consumer
// group and runs one partition worker per assigned partition.
//
// Goroutines: Run owns the group loop; kafka-go's generation runs one
// goroutine per assigned partition (consumePartition) and waits for all of
// them before the next generation starts. A partition goroutine owns its
// reader, worker (and the worker's flusher) and dead-letter buffer; the only shared things are the
// sink, the dead-letter writer (both safe for concurrent use) and the
// counters and gauges maps (guarded by mu), which the metrics collector
// reads (metrics.go).
type Consumer struct {
	cfg    Config
	worker WorkerConfig
	sink   Sink
	dead   *kafka.Writer
	log    *slog.Logger
	health Health // see SetHealth
	now    func() time.Time

	mu       sync.Mutex
	counters map[int]*Counters        // by partition, kept across generations
	gauges   map[int]*partitionGauges // by partition, while assigned
	joined   atomic.Bool              // see Joined
	// fetchFailing is set while a fetch has failed and none has
	// succeeded since, on any partition: the first success reports the
	// link recovered, even on a worker restarted in between.
	fetchFailing atomic.Bool

	// commitMu serializes the workers' offset commits. They share the
	// generation's one coordinator connection, and kafka-go lets several
	// waiters on a connection take turns peeking at each response, each
	// turn resetting a socket deadline: with 8 partitions flushing the
	// same hour, that spinning was 5% of the process's CPU.
	commitMu sync.Mutex
}

// NewConsumer checks cfg and prepares a consumer; Run starts it.
func NewConsumer(cfg Config, spec *cohorts.Spec, rekey *cohorts.Rekeyer, sink Sink, log *slog.Logger) (*Consumer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if (cfg.TLS.Enabled || cfg.SASL.Mechanism != "") && cfg.Dialer == nil {
		return nil, errors.New("BUG: kafka.tls or kafka.sasl is set, but no Dialer was built of them (NewDialer)")
	}
	return &Consumer{
		cfg: cfg,
		worker: WorkerConfig{
			Spec: spec, Rekey: rekey, MaxOutOfOrder: cfg.MaxOutOfOrder, WatermarkUsers: cfg.WatermarkUsers,
			MaxInFlightFlushes: cfg.MaxInFlightFlushes,
		},
		sink: sink,
		dead: &kafka.Writer{
			Addr: kafka.TCP(cfg.Brokers...), Topic: cfg.DeadLetterTopic,
			Balancer: &kafka.Murmur2Balancer{}, RequiredAcks: kafka.RequireAll,
			AllowAutoTopicCreation: true, BatchTimeout: 10 * time.Millisecond,
			Transport: cfg.Dialer.Transport(),
		},
		log:      log,
		health:   logHealth{log},
		now:      time.Now,
		counters: map[int]*Counters{},
		gauges:   map[int]*partitionGauges{},
	}, nil
}

// SetHealth makes the consumer report its connection failures and
// recoveries to h (pipeline/ops.Links in run) instead of logging each
// one. Call it before Run.
func (c *Consumer) SetHealth(h Health) { c.health = h }

// groupConfig is the consumer group's configuration: the timeouts that
// decide how fast survivors take a dead member's partitions come from cfg.
func groupConfig(cfg Config) kafka.ConsumerGroupConfig {
	return kafka.ConsumerGroupConfig{
		ID: cfg.Group, Brokers: cfg.Brokers, Topics: []string{cfg.Topic},
		StartOffset:    kafka.FirstOffset,
		SessionTimeout: cfg.SessionTimeout, HeartbeatInterval: cfg.HeartbeatInterval,
		RebalanceTimeout: cfg.RebalanceTimeout,
		Dialer:           cfg.Dialer.KafkaDialer(),
	}
}

// Run consumes until ctx is cancelled, then returns nil once every
// partition goroutine has stopped, or after leaveTimeout (see leave).
// Windows still open are dropped, not flushed, and flushes in flight
// abandoned: their messages are after the last commit and will be read
// again.
//
// A broker that cannot be reached is retried with backoff, at start as
// later, and reported to the consumer's Health; Run returns an error only
// for a configuration kafka-go refuses.
func (c *Consumer) Run(ctx context.Context) error {
	brokers := brokersText(c.cfg.Brokers)
	for n := 1; ; n++ {
		err := ensureDeadLetterTopic(ctx, c.cfg.Dialer, c.cfg.Brokers, c.cfg.Topic, c.cfg.DeadLetterTopic)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return nil
		}
		if n == 1 && !timedOut(err) {
			// A broker that refuses the client's TLS or SASL refuses it
			// again: say why and stop, as for a bad config. A refusal
			// answers at once; a broker that timed out is silent, and
			// asking it again would hold back the failure's log line by
			// another adminTimeout.
			if cerr := CheckBroker(ctx, c.cfg.Dialer, c.cfg.Brokers[0]); cerr != nil && refusedSecurity(c.cfg.Dialer, cerr) {
				return cerr
			}
		}
		c.health.Failed(linkGroup, brokers, err)
		if !sleep(ctx, c.backoff(n)) {
			return nil
		}
	}
	group, err := kafka.NewConsumerGroup(groupConfig(c.cfg))
	if err != nil {
		return fmt.Errorf("joining consumer group %q on %v (%s): %w", c.cfg.Group, c.cfg.Brokers, c.cfg.Dialer, err)
	}
	defer c.leave(group)
	defer c.joined.Store(false)
	for {
		gen, err := group.Next(ctx)
		if ctx.Err() != nil {
			return nil
		}
		c.joined.Store(err == nil)
		switch {
		case err == nil:
			c.health.Recovered(linkGroup)
		case isConnectionError(err):
			c.health.Failed(linkGroup, brokers, fmt.Errorf("joining consumer group %q: %w", c.cfg.Group, err))
		default:
			// A rebalance in progress and its kin: the protocol at work.
			c.log.Warn("consumer group: waiting for the next generation", "group", c.cfg.Group, "err", err)
		}
		if err != nil {
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

// leaveTimeout bounds how long a stopping consumer waits to leave its
// group and close the dead-letter writer, so that SIGTERM ends the process
// within about a second whatever the brokers do. kafka-go's Close cannot
// be interrupted: it waits for a JoinGroup in flight (up to the session
// plus rebalance timeout, 17s were seen against a dead coordinator). Not
// waiting loses nothing: what was not committed is read again, and a
// member that did not leave is dropped after kafka.session_timeout.
const leaveTimeout = time.Second

// leave closes the group (which waits for the partition goroutines, then
// leaves it), then the dead-letter writer, in that order so that no worker
// writes to a closed writer; it gives up waiting after leaveTimeout.
func (c *Consumer) leave(group *kafka.ConsumerGroup) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		group.Close()
		c.dead.Close()
	}()
	select {
	case <-done:
	case <-time.After(leaveTimeout):
		c.log.Warn("consumer group: leaving takes too long; stopping without waiting (the coordinator drops this member after kafka.session_timeout)",
			"group", c.cfg.Group, "waited", leaveTimeout)
	}
}

// backoff is the wait before retry n of a connection at start: doubling
// from a quarter second up to kafka.restart_backoff.
func (c *Consumer) backoff(n int) time.Duration {
	d := 250 * time.Millisecond
	for i := 1; i < n && d < c.cfg.RestartBackoff; i++ {
		d *= 2
	}
	return min(d, max(c.cfg.RestartBackoff, 250*time.Millisecond))
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
	reader := kafkawire.NewPartitionReader(c.cfg.Dialer.KafkaDialer(), c.cfg.Brokers, c.cfg.Topic, partition, offset)
	defer reader.Close()
	commit := func(_ context.Context, offset int64) error {
		c.commitMu.Lock()
		defer c.commitMu.Unlock()
		return gen.CommitOffsets(map[string]map[int]int64{c.cfg.Topic: {partition: offset}})
	}
	dead := newKafkaDeadLetters(c.dead, c.cfg.DeadLetterBatch, partition, c.log)
	dead.health, dead.brokers = c.health, brokersText(c.cfg.Brokers)
	w := NewWorker(c.worker, c.cfg.Topic, partition, c.sink, dead, commit, c.countersOf(partition))
	w.gauges, w.log = g, c.log
	defer w.Release()
	if err := w.Resume(ctx); err != nil {
		return w.committed, err
	}
	handle := func(m kafka.Message) error { return w.Handle(ctx, m) }
	// The partition is idle once nothing arrived for the idle timeout: its
	// windows then close within one fetch wait after that.
	lastActive := c.now()
	for failures := 0; ; {
		now := c.now()
		// Events too far in the future are rejected relative to the clock,
		// and the watermark never passes it.
		w.decoder.MaxTS = now.Add(c.cfg.MaxFutureSkew).UnixMilli()
		w.wm.clock = now.UnixMilli()
		n, err := reader.Fetch(ctx, handle)
		g.lag.Store(reader.Lag())
		if ctx.Err() != nil {
			return w.committed, ctx.Err()
		}
		var herr kafkawire.HandlerError
		switch {
		case errors.As(err, &herr):
			return w.committed, herr.Err
		case err != nil:
			// The broker or the connection: fetch again from the same
			// offset; the worker and its open windows stay.
			failures++
			if isConnectionError(err) {
				c.fetchFailing.Store(true)
				c.health.Failed(linkFetch, brokersText(c.cfg.Brokers), err)
			} else {
				c.log.Warn("fetch failed; reconnecting", "topic", c.cfg.Topic, "partition", partition,
					"failures", failures, "backoff", c.cfg.RestartBackoff, "err", err)
			}
			if !sleep(ctx, c.cfg.RestartBackoff) {
				return w.committed, ctx.Err()
			}
			continue
		}
		if c.fetchFailing.Load() && c.fetchFailing.CompareAndSwap(true, false) {
			c.health.Recovered(linkFetch)
		}
		failures = 0
		// Between fetches: commit the flushes acknowledged meanwhile, and
		// stop on one that failed, even when no message comes.
		if err := w.Poll(ctx); err != nil {
			return w.committed, err
		}
		if n > 0 {
			lastActive = now
		} else if now.Sub(lastActive) >= c.cfg.IdleTimeout {
			if err := w.Idle(ctx, now); err != nil {
				return w.committed, err
			}
			lastActive = now
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

// Totals sums the counters over every partition this consumer has had.
func (c *Consumer) Totals() CountTotals {
	var t CountTotals
	for _, n := range c.Counters() {
		n.AddTo(&t)
	}
	return t
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
