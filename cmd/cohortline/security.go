package main

import (
	"os"

	"github.com/cohortline/cohortline/cmd/internal/configfile"
)

// Security settings outside run's config: gen and the demo take --config
// for kafka.tls and kafka.sasl alone (File.WarnInsecure warns of a tls
// block that skips verification).

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
