package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/cohortline/cohortline/cohorts"
	"github.com/cohortline/cohortline/cohorts/publish"
	"github.com/cohortline/cohortline/pipeline"
	"github.com/cohortline/cohortline/pipeline/ops"
	"github.com/cohortline/cohortline/sinks/clickhouse"
)

// envSecret carries the re-keying and noise secret, so it never sits in a
// config file (like envClickHousePassword, which overrides the file).
const envSecret = "COHORTLINE_SECRET"

// developmentSecret keys tokens in development mode only. It is public, so
// re-keyed tokens made with it protect nothing: production mode refuses to
// start without COHORTLINE_SECRET.
const developmentSecret = "cohortline development secret: never use in production"

// fileConfig is the YAML config file of `run` (deploy/cohortline.example.yaml
// documents every key). Decoding is strict: an unknown key fails with its
// name and line.
type fileConfig struct {
	// Mode is "production" (the default: a secret is required),
	// "development" (the public development secret is used when
	// COHORTLINE_SECRET is unset) or "test" (as development, and
	// publish.noise may be false).
	Mode       string            `yaml:"mode"`
	Kafka      pipeline.Config   `yaml:"kafka"`
	Cohorts    yaml.Node         `yaml:"cohorts"` // the cohort spec, checked by cohorts.ParseSpec
	ClickHouse clickhouse.Config `yaml:"clickhouse"`
	HTTP       ops.Config        `yaml:"http"` // metrics and probes (pipeline/ops)
	Publish    publish.Settings  `yaml:"publish"`
}

// The modes of the config file, as publish records them: a published
// database takes the releases of one mode only.
const (
	modeProduction  = publish.ModeProduction
	modeDevelopment = publish.ModeDevelopment
	modeTest        = publish.ModeTest
)

// config is a loaded, checked configuration.
type config struct {
	file   fileConfig
	spec   cohorts.Spec
	secret []byte
}

// loadConfig reads and checks the config file at path; every error names the
// file and the key.
func loadConfig(path string, getenv func(string) string) (*config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, usageErrorf("reading config: %w", err)
	}
	cfg, err := parseConfig(data, getenv)
	if err != nil {
		return nil, usageErrorf("config %s: %w", path, err)
	}
	return cfg, nil
}

func parseConfig(data []byte, getenv func(string) string) (*config, error) {
	f, lines, err := decodeConfig(data)
	if err != nil {
		return nil, err
	}
	cfg, err := checkConfig(f, getenv)
	return cfg, locateConfigError(lines, err)
}

// checkConfig applies the defaults to a decoded config file, validates it
// and takes the secrets from getenv. The demo builds its fileConfig in
// code and checks it here, as run checks a file.
func checkConfig(f fileConfig, getenv func(string) string) (*config, error) {
	cfg := &config{file: f}
	var err error
	if f.Mode == "" {
		cfg.file.Mode = modeProduction
	}
	if m := cfg.file.Mode; m != modeProduction && m != modeDevelopment && m != modeTest {
		return nil, fmt.Errorf("mode: %q is none of production, development, test", m)
	}
	if err := cfg.file.Kafka.Validate(); err != nil {
		return nil, err
	}
	if cfg.spec, err = specOf(&f.Cohorts); err != nil {
		return nil, err
	}
	if err := clickHouseOf(&cfg.file.ClickHouse, getenv); err != nil {
		return nil, err
	}
	if err := cfg.file.HTTP.Validate(); err != nil {
		return nil, err
	}
	if err := cfg.file.Publish.Check(cfg.file.Mode, cfg.spec); err != nil {
		return nil, err
	}
	secret := getenv(envSecret)
	switch {
	case secret == "" && cfg.file.Mode == modeProduction:
		return nil, fmt.Errorf("mode production: %s is not set: set it to 32 or more random bytes (development mode uses a public secret)", envSecret)
	case secret == "":
		secret = developmentSecret
	}
	if len(secret) < 32 {
		return nil, fmt.Errorf("%s: %d bytes, want at least 32 random bytes", envSecret, len(secret))
	}
	cfg.secret = []byte(secret)
	return cfg, nil
}

// decodeConfig decodes a config file strictly; absent keys keep their
// defaults. Nothing is validated yet, but every key is checked for its
// name and the type of its value first (checkConfigKeys), so that errors
// give the key's full path and line; lines has the line of each key.
func decodeConfig(data []byte) (f fileConfig, lines configLines, err error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return fileConfig{}, nil, errors.New(strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if doc.Kind == 0 {
		return fileConfig{}, nil, errors.New("empty file")
	}
	if lines, err = checkConfigKeys(&doc); err != nil {
		return fileConfig{}, nil, err
	}
	f = fileConfig{HTTP: ops.Config{Listen: ops.DefaultListen}}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true) // checkConfigKeys should have said it all; belt and braces
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return fileConfig{}, nil, errors.New("empty file")
		}
		return fileConfig{}, nil, err
	}
	return f, lines, nil
}

// loadSpecConfig reads the config file at path for a command that needs
// only some of its sections (lookup, privacy plan): the file is decoded
// strictly and its cohorts section checked, nothing else; no Kafka, no
// secret. Errors are usage errors naming the file (and the key's line).
func loadSpecConfig(path string) (fileConfig, cohorts.Spec, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return fileConfig{}, cohorts.Spec{}, usageErrorf("reading config: %w", err)
	}
	file, lines, err := decodeConfig(data)
	if err != nil {
		return fileConfig{}, cohorts.Spec{}, usageErrorf("config %s: %w", path, err)
	}
	spec, err := specOf(&file.Cohorts)
	if err != nil {
		return fileConfig{}, cohorts.Spec{}, usageErrorf("config %s: %w", path, locateConfigError(lines, err))
	}
	return file, spec, nil
}

// specOf parses the cohorts section: the default spec when it is absent.
func specOf(n *yaml.Node) (cohorts.Spec, error) {
	if n.Kind == 0 {
		return cohorts.DefaultSpec(), nil
	}
	specYAML, err := yaml.Marshal(n)
	if err != nil {
		return cohorts.Spec{}, fmt.Errorf("cohorts: %w", err)
	}
	spec, err := cohorts.ParseSpec(specYAML)
	if err != nil {
		return cohorts.Spec{}, fmt.Errorf("cohorts: %w", err)
	}
	return spec, nil
}

// clickHouseOf sets the password from the environment, which wins over
// the file, and validates the clickhouse section.
func clickHouseOf(c *clickhouse.Config, getenv func(string) string) error {
	if pw := getenv(envClickHousePassword); pw != "" {
		c.Password = pw
	}
	if err := c.Validate(); err != nil {
		return fmt.Errorf("clickhouse: %w", err)
	}
	return nil
}
