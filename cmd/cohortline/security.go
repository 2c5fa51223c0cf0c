package main

import (
	"log/slog"
	"os"

	"github.com/cohortline/cohortline/cmd/internal/configfile"
)

// Security settings outside run's config: gen and the demo take --config
// for kafka.tls and kafka.sasl alone, and every command warns at start when
// a tls block skips verification.

// warnInsecure logs, loudly, every connection whose server certificates go
// unchecked (insecure_skip_verify): anyone on the path can read and change
// its traffic.
func warnInsecure(log *slog.Logger, f *configfile.File) {
	if f.Kafka.Dialer.Insecure() {
		log.Warn("kafka.tls.insecure_skip_verify is set: the brokers' certificates are NOT verified; anyone on the network path can read and change the traffic, passwords included. Never in production.")
	}
	if f.ClickHouse.TLS.Insecure() {
		log.Warn("clickhouse.tls.insecure_skip_verify is set: the server's certificate is NOT verified; anyone on the network path can read and change the traffic, the password included. Never in production.")
	}
}

// demoSecurity takes the security settings of the demo's --config: the
// Kafka ones only with --kafka (the embedded broker is plaintext), the
// ClickHouse ones always.
func demoSecurity(f *configfile.File, opts demoOptions) error {
	if opts.config == "" {
		return nil
	}
	data, err := os.ReadFile(opts.config)
	if err != nil {
		return usageErrorf("reading config: %w", err)
	}
	file, _, err := configfile.Decode(data)
	if err != nil {
		return usageErrorf("config %s: %w", opts.config, err)
	}
	if opts.kafka != "" {
		f.Kafka.TLS, f.Kafka.SASL = file.Kafka.TLS, file.Kafka.SASL
	}
	ch := file.ClickHouse
	f.ClickHouse.TLS, f.ClickHouse.Secret = ch.TLS, ch.Secret
	if ch.Username != "" {
		f.ClickHouse.Username = ch.Username
	}
	return nil
}
