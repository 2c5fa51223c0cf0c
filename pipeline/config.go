package pipeline

import (
	"errors"
	"fmt"
	"time"
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
}

// DefaultWatermarkUsers is kafka.watermark_users' default.
const DefaultWatermarkUsers = 3

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
	} {
		if d.value < 0 {
			errs = append(errs, fmt.Errorf("%s: %v is negative", d.key, d.value))
		}
	}
	if c.WatermarkUsers < 1 || c.WatermarkUsers > MaxWatermarkUsers {
		errs = append(errs, fmt.Errorf("kafka.watermark_users: %d, want 1 to %d", c.WatermarkUsers, MaxWatermarkUsers))
	}
	if c.DeadLetterBatch < 0 {
		errs = append(errs, fmt.Errorf("kafka.dead_letter_batch: %d is negative", c.DeadLetterBatch))
	}
	return errors.Join(errs...)
}
