package pipeline

import (
	"errors"
	"fmt"
	"time"

	"github.com/cohortline/cohortline/netsec"
)

// Config configures the streaming consumer. Zero values take the defaults
// documented on each field.
type Config struct {
	Brokers []string `yaml:"brokers"` // required, host:port
	Topic   string   `yaml:"topic"`   // required: activity events v1, keyed by user token
	Group   string   `yaml:"group"`   // consumer group; default "cohortline"
	// DeadLetterTopic receives rejected messages; default Topic + ".dlq".
	DeadLetterTopic string `yaml:"dead_letter_topic"`
	// MaxOutOfOrder is how far behind the newest (corroborated) event time
	// an event may be and still count as on time: watermark = that time
	// minus this. Default 10s.
	MaxOutOfOrder time.Duration `yaml:"max_out_of_order"`
	// WatermarkUsers is how many distinct users' events must reach an
	// event time before a partition's watermark follows it, so that no
	// single person (a broken clock, a hostile producer) can close a window
	// early and make everyone else's events late. A partition with fewer
	// active users closes its windows only by idle_timeout. Default 3; 1
	// to MaxWatermarkUsers (16).
	WatermarkUsers int `yaml:"watermark_users"`
	// IdleTimeout closes the windows of a partition that received nothing for
	// this long (wall clock): as if event time had reached the end of the
	// newest open window plus the allowed lateness, but not past the wall
	// clock minus max_out_of_order. Default 1m. A replay may close such
	// windows at another point, so results are exact only for windows
	// closed by event time.
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// MaxFutureSkew rejects events more than this ahead of the wall clock as
	// ts_out_of_range. Default 1h.
	MaxFutureSkew time.Duration `yaml:"max_future_skew"`
	// RestartBackoff is the wait before a partition worker that failed (the
	// sink or Kafka gave up after their retries) starts again from the last
	// commit. Default 5s.
	RestartBackoff time.Duration `yaml:"restart_backoff"`
	// DeadLetterBatch is how many dead letters a worker buffers before it
	// writes them. Default 1000.
	DeadLetterBatch int `yaml:"dead_letter_batch"`
	// SessionTimeout is how long the group coordinator waits for a
	// member's heartbeat before it declares the member dead and gives its
	// partitions to the others: after a kill -9, the survivors take over
	// within about this plus one rebalance. Default 6s, the smallest the
	// broker accepts by default (group.min.session.timeout.ms); kafka-go's
	// own default, 30s, kept a dead member's partitions idle 46-66s.
	SessionTimeout time.Duration `yaml:"session_timeout"`
	// HeartbeatInterval is how often a member tells the coordinator it
	// lives (and learns of a rebalance); below session_timeout, Kafka
	// advises a third of it or less. Heartbeats are sent by a goroutine of
	// their own, never behind a flush. Default 1s.
	HeartbeatInterval time.Duration `yaml:"heartbeat_interval"`
	// RebalanceTimeout is how long the coordinator waits for every member
	// to rejoin during a rebalance; a member that takes longer (a worker
	// finishing a flush) is dropped from the generation. Default 15s.
	RebalanceTimeout time.Duration `yaml:"rebalance_timeout"`
	// TLS and SASL secure every connection to the brokers: the group, the
	// fetches, the dead letters, admin requests (kafka_dialer.go). Off by
	// default. NewDialer builds them once into Dialer.
	TLS  netsec.TLS `yaml:"tls"`
	SASL SASLConfig `yaml:"sasl"`
	// Dialer is what NewDialer built of TLS and SASL, set by the caller;
	// nil is plaintext, and is refused when TLS or SASL is configured.
	Dialer *Dialer `yaml:"-"`
	// MaxInFlightFlushes is how many closed windows of one partition may
	// be on their way to the sink at once: the worker hands a closed
	// window to its flusher and reads on, and commits offsets only as the
	// sink acknowledges (pipeline/flusher.go). When this many are
	// unacknowledged the worker waits, so reading stops and memory stays
	// bounded (one partials record per window in flight). 1 flushes
	// synchronously: the worker reads nothing while it writes. Default 1;
	// 1 to MaxInFlightFlushes (16). 2 pays where the sink's inserts wait
	// on the network or on a ClickHouse with cores of its own; on the
	// 2-core benchmark machine, shared with ClickHouse and Kafka, it was
	// slower at 5M events (BENCHMARKS.md).
	MaxInFlightFlushes int `yaml:"max_in_flight_flushes"`
}

// DefaultWatermarkUsers is kafka.watermark_users' default.
const DefaultWatermarkUsers = 3

// DefaultMaxInFlightFlushes is kafka.max_in_flight_flushes' default: the
// synchronous flush. On the 2-core benchmark machine, ClickHouse and Kafka
// on the same cores, the pipelined flush made the 5M-event run slower:
// the inserts of the one group-commit sender (sinks/clickhouse), the
// bottleneck there, took twice as long while the workers read on, most
// likely for want of CPU (BENCHMARKS.md).
const DefaultMaxInFlightFlushes = 1

// MaxInFlightFlushes is the largest kafka.max_in_flight_flushes accepted:
// more would only hold more records while ClickHouse is slow.
const MaxInFlightFlushes = 16

func (c *Config) setDefaults() {
	if c.Group == "" {
		c.Group = "cohortline"
	}
	if c.DeadLetterTopic == "" && c.Topic != "" {
		c.DeadLetterTopic = c.Topic + ".dlq"
	}
	if c.MaxOutOfOrder == 0 {
		c.MaxOutOfOrder = 10 * time.Second
	}
	if c.WatermarkUsers == 0 {
		c.WatermarkUsers = DefaultWatermarkUsers
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = time.Minute
	}
	if c.MaxFutureSkew == 0 {
		c.MaxFutureSkew = time.Hour
	}
	if c.RestartBackoff == 0 {
		c.RestartBackoff = 5 * time.Second
	}
	if c.DeadLetterBatch == 0 {
		c.DeadLetterBatch = 1000
	}
	if c.SessionTimeout == 0 {
		c.SessionTimeout = 6 * time.Second
	}
	if c.HeartbeatInterval == 0 {
		c.HeartbeatInterval = time.Second
	}
	if c.RebalanceTimeout == 0 {
		c.RebalanceTimeout = 15 * time.Second
	}
	if c.MaxInFlightFlushes == 0 {
		c.MaxInFlightFlushes = DefaultMaxInFlightFlushes
	}
}

// Validate applies the defaults and checks c; errors name the key.
func (c *Config) Validate() error {
	c.setDefaults()
	var errs []error
	if len(c.Brokers) == 0 {
		errs = append(errs, errors.New("kafka.brokers: at least one broker address is required"))
	}
	if c.Topic == "" {
		errs = append(errs, errors.New("kafka.topic: required"))
	}
	if c.DeadLetterTopic == c.Topic {
		errs = append(errs, fmt.Errorf("kafka.dead_letter_topic: must differ from the input topic %q", c.Topic))
	}
	for _, d := range []struct {
		key   string
		value time.Duration
	}{
		{"kafka.max_out_of_order", c.MaxOutOfOrder}, {"kafka.idle_timeout", c.IdleTimeout},
		{"kafka.max_future_skew", c.MaxFutureSkew}, {"kafka.restart_backoff", c.RestartBackoff},
		{"kafka.session_timeout", c.SessionTimeout}, {"kafka.heartbeat_interval", c.HeartbeatInterval},
		{"kafka.rebalance_timeout", c.RebalanceTimeout},
	} {
		if d.value < 0 {
			errs = append(errs, fmt.Errorf("%s: %v is negative", d.key, d.value))
		}
	}
	if c.WatermarkUsers < 1 || c.WatermarkUsers > MaxWatermarkUsers {
		errs = append(errs, fmt.Errorf("kafka.watermark_users: %d, want 1 to %d", c.WatermarkUsers, MaxWatermarkUsers))
	}
	if c.HeartbeatInterval >= c.SessionTimeout && c.SessionTimeout > 0 {
		errs = append(errs, fmt.Errorf("kafka.heartbeat_interval: %v, want less than kafka.session_timeout (%v), a third of it or less", c.HeartbeatInterval, c.SessionTimeout))
	}
	if c.SessionTimeout > 0 && c.SessionTimeout%time.Millisecond != 0 || c.RebalanceTimeout%time.Millisecond != 0 {
		errs = append(errs, errors.New("kafka.session_timeout, kafka.rebalance_timeout: want whole milliseconds (the protocol's unit)"))
	}
	if c.MaxInFlightFlushes < 1 || c.MaxInFlightFlushes > MaxInFlightFlushes {
		errs = append(errs, fmt.Errorf("kafka.max_in_flight_flushes: %d, want 1 (synchronous flushes) to %d", c.MaxInFlightFlushes, MaxInFlightFlushes))
	}
	if c.DeadLetterBatch < 0 {
		errs = append(errs, fmt.Errorf("kafka.dead_letter_batch: %d is negative", c.DeadLetterBatch))
	}
	if err := c.TLS.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("kafka.%w", err))
	}
	if err := c.SASL.Validate(c.TLS.Enabled); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
