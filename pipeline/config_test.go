package pipeline

import (
	"strings"
	"testing"
	"time"
)

// TestGroupTimeouts: the defaults give a failover in seconds (kafka-go's
// own 30s session timeout kept a dead member's partitions idle 46-66s),
// and the consumer group is built with what the config says.
func TestGroupTimeouts(t *testing.T) {
	c := Config{Brokers: []string{"127.0.0.1:1"}, Topic: "activity"}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.SessionTimeout != 6*time.Second || c.HeartbeatInterval != time.Second || c.RebalanceTimeout != 15*time.Second {
		t.Errorf("defaults: session %v, heartbeat %v, rebalance %v", c.SessionTimeout, c.HeartbeatInterval, c.RebalanceTimeout)
	}
	c.SessionTimeout, c.HeartbeatInterval, c.RebalanceTimeout = 10*time.Second, 2*time.Second, 20*time.Second
	g := groupConfig(c)
	if g.SessionTimeout != c.SessionTimeout || g.HeartbeatInterval != c.HeartbeatInterval || g.RebalanceTimeout != c.RebalanceTimeout ||
		g.ID != "cohortline" || g.Topics[0] != "activity" {
		t.Errorf("group config %+v", g)
	}
	if err := g.Validate(); err != nil {
		t.Errorf("kafka-go refuses the group config: %v", err)
	}
}

func TestGroupTimeoutErrorsNameTheKey(t *testing.T) {
	for _, c := range []struct {
		session, heartbeat, rebalance time.Duration
		want                          string
	}{
		{6 * time.Second, 6 * time.Second, 0, "kafka.heartbeat_interval: 6s, want less than kafka.session_timeout (6s)"},
		{-time.Second, 0, 0, "kafka.session_timeout: -1s is negative"},
		{0, 0, 1500 * time.Microsecond, "want whole milliseconds"},
	} {
		cfg := Config{Brokers: []string{"a:1"}, Topic: "t", SessionTimeout: c.session, HeartbeatInterval: c.heartbeat, RebalanceTimeout: c.rebalance}
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want %q", c, err, c.want)
		}
	}
}

// TestConsumerNeedsTheDialerOfItsSecurity: a config with kafka.tls or
// kafka.sasl but no Dialer built of them would dial plaintext; NewConsumer
// refuses it rather than connect in the clear.
func TestConsumerNeedsTheDialerOfItsSecurity(t *testing.T) {
	cfg := Config{Brokers: []string{"127.0.0.1:1"}, Topic: "activity"}
	cfg.TLS.Enabled = true
	if _, err := NewConsumer(cfg, nil, nil, nil, nil); err == nil || !strings.Contains(err.Error(), "no Dialer") {
		t.Errorf("NewConsumer with kafka.tls and no Dialer: %v", err)
	}
	var d *Dialer
	if kd := d.KafkaDialer(); kd.TLS != nil || kd.SASLMechanism != nil || d.Transport() != nil || d.String() != "PLAINTEXT" {
		t.Errorf("a nil Dialer is not plaintext: %+v, %v, %q", kd, d.Transport(), d)
	}
}

// kafka.max_in_flight_flushes: 0 takes the default (1, the synchronous
// flush), and values outside 1-16 fail with the key and the reason.
func TestMaxInFlightFlushes(t *testing.T) {
	for _, c := range []struct {
		in, want int
		err      string
	}{
		{0, DefaultMaxInFlightFlushes, ""}, {1, 1, ""}, {16, 16, ""},
		{-1, 0, "kafka.max_in_flight_flushes: -1, want 1 (synchronous flushes) to 16"},
		{17, 0, "kafka.max_in_flight_flushes: 17, want 1 (synchronous flushes) to 16"},
	} {
		cfg := Config{Brokers: []string{"a:1"}, Topic: "t", MaxInFlightFlushes: c.in}
		err := cfg.Validate()
		switch {
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%d: error %v, want %q", c.in, err, c.err)
		case c.err == "" && (err != nil || cfg.MaxInFlightFlushes != c.want):
			t.Errorf("%d: error %v, value %d, want %d", c.in, err, cfg.MaxInFlightFlushes, c.want)
		}
	}
}
