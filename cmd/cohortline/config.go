package main

import (
	"github.com/cohortline/cohortline/cmd/internal/configfile"
	"github.com/cohortline/cohortline/cohorts"
	"github.com/cohortline/cohortline/pipeline"
)

// The config file is cmd/internal/configfile's to read and check; to the
// commands a bad one is a usage error (exit 2).

// config is a loaded, checked configuration.
type config = configfile.Config

func loadConfig(path string, getenv func(string) string) (*config, error) {
	cfg, err := configfile.Load(path, getenv)
	return cfg, asUsage(err)
}

func loadSpecConfig(path string) (configfile.File, cohorts.Spec, error) {
	f, spec, err := configfile.LoadSpec(path)
	return f, spec, asUsage(err)
}

// kafkaDialerOf is the Kafka dialer of --config's kafka.tls and kafka.sasl
// blocks, for gen and the demo ("" is plaintext).
func kafkaDialerOf(path string, getenv func(string) string) (*pipeline.Dialer, error) {
	d, err := configfile.KafkaDialer(path, getenv)
	return d, asUsage(err)
}

func asUsage(err error) error {
	if err == nil {
		return nil
	}
	return usageError{err}
}
