package main

import "github.com/cohortline/cohortline/cmd/internal/configfile"

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
	file, _, err := configfile.Read(opts.config)
	if err != nil {
		return usageError{err}
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
