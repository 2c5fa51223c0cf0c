package main

import (
	"fmt"
	"os"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/cohortline/cohortline/netsec"
	"github.com/cohortline/cohortline/pipeline"
)

// kafkaSecurity is --kafka-config: the kafka.tls and kafka.sasl blocks of
// a cohortline config file, for every Kafka connection of the benchmark
// (its admin requests, stage (a)'s readers, gen and stage (b)'s run), so
// that a secured listener's figures stand beside the plaintext ones.
type kafkaSecurity struct {
	dialer *pipeline.Dialer
	yaml   string // the two blocks, for the run's config file
}

// loadKafkaSecurity reads path's kafka.tls and kafka.sasl (its other keys
// are cohortline's to check) and builds the dialer; "" is plaintext.
func loadKafkaSecurity(path string) (kafkaSecurity, error) {
	if path == "" {
		return kafkaSecurity{}, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return kafkaSecurity{}, fmt.Errorf("--kafka-config: %w", err)
	}
	var f struct {
		Kafka struct {
			TLS  netsec.TLS          `yaml:"tls"`
			SASL pipeline.SASLConfig `yaml:"sasl"`
		} `yaml:"kafka"`
	}
	if err := yaml.Unmarshal(data, &f); err != nil {
		return kafkaSecurity{}, fmt.Errorf("--kafka-config %s: %w", path, err)
	}
	d, err := pipeline.NewDialer(f.Kafka.TLS, f.Kafka.SASL, os.Getenv)
	if err != nil {
		return kafkaSecurity{}, fmt.Errorf("--kafka-config %s: %w", path, err)
	}
	blocks, err := yaml.Marshal(f.Kafka)
	if err != nil {
		return kafkaSecurity{}, fmt.Errorf("--kafka-config %s: %w", path, err)
	}
	indented := "  " + strings.ReplaceAll(strings.TrimRight(string(blocks), "\n"), "\n", "\n  ") + "\n"
	return kafkaSecurity{dialer: d, yaml: indented}, nil
}
