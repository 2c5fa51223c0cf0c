// Package configfile reads and checks the YAML config file that run,
// publish, backfill, migrate, lookup, privacy and gen take with --config
// (deploy/cohortline.example.yaml documents every key). Decoding is strict:
// an unknown key, a value of the wrong type or a failed check is an error
// naming the file, the key's full path and its line. Secrets come from the
// environment or from files the config names, never from the file itself.
package configfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/cohortline/cohortline/cmd/internal/buildinfo"
	"github.com/cohortline/cohortline/cohorts"
	"github.com/cohortline/cohortline/cohorts/publish"
	"github.com/cohortline/cohortline/pipeline"
	"github.com/cohortline/cohortline/pipeline/ops"
	"github.com/cohortline/cohortline/sinks/clickhouse"
)

// Environment variables the config takes its secrets from, so that they
// never sit in a config file.
const (
	// EnvSecret carries the re-keying and noise secret.
	EnvSecret = "COHORTLINE_SECRET"
	// EnvClickHousePassword overrides the clickhouse section's password.
	// Never a flag: flags show in ps.
	EnvClickHousePassword = "COHORTLINE_CLICKHOUSE_PASSWORD"
)

// developmentSecret keys tokens in development mode only. It is public, so
// re-keyed tokens made with it protect nothing: production mode refuses to
// start without COHORTLINE_SECRET.
const DevelopmentSecret = "cohortline development secret: never use in production"

// File is the YAML config file as decoded, before its checks.
type File struct {
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
	ModeProduction  = publish.ModeProduction
	ModeDevelopment = publish.ModeDevelopment
	ModeTest        = publish.ModeTest
)

// Config is a loaded, checked configuration.
type Config struct {
	File   File
	Spec   cohorts.Spec
	Secret []byte // EnvSecret's, or DevelopmentSecret outside production
}

// Load reads and checks the config file at path; every error names the
// file and the key.
func Load(path string, getenv func(string) string) (*Config, error) {
	f, lines, err := Read(path)
	if err != nil {
		return nil, err
	}
	cfg, err := Check(f, getenv)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, lines.locate(err))
	}
	return cfg, nil
}

// Read reads the config file at path and decodes it strictly (Decode),
// checking nothing else: each command checks the sections it uses. Its
// errors name the file; a caller's own check of a value names it too,
// with the key's line from lines.
func Read(path string) (File, Lines, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return File{}, nil, fmt.Errorf("reading config: %w", err)
	}
	f, lines, err := Decode(data)
	if err != nil {
		return File{}, nil, fmt.Errorf("config %s: %w", path, err)
	}
	return f, lines, nil
}

// Parse decodes and checks a config file's bytes.
func Parse(data []byte, getenv func(string) string) (*Config, error) {
	f, lines, err := Decode(data)
	if err != nil {
		return nil, err
	}
	cfg, err := Check(f, getenv)
	return cfg, lines.locate(err)
}

// Check applies the defaults to a decoded config file, validates it and
// takes the secrets from getenv. The demo builds its File in code and
// checks it here, as run checks a file.
func Check(f File, getenv func(string) string) (*Config, error) {
	cfg := &Config{File: f}
	var err error
	if f.Mode == "" {
		cfg.File.Mode = ModeProduction
	}
	if m := cfg.File.Mode; m != ModeProduction && m != ModeDevelopment && m != ModeTest {
		return nil, fmt.Errorf("mode: %q is none of production, development, test", m)
	}
	if err := cfg.File.Kafka.Validate(); err != nil {
		return nil, err
	}
	// Built once: every Kafka connection of the process shares it.
	if cfg.File.Kafka.Dialer, err = pipeline.NewDialer(cfg.File.Kafka.TLS, cfg.File.Kafka.SASL, getenv); err != nil {
		return nil, err
	}
	if cfg.Spec, err = specOf(&f.Cohorts); err != nil {
		return nil, err
	}
	if err := CheckClickHouse(&cfg.File.ClickHouse, getenv); err != nil {
		return nil, err
	}
	if err := cfg.File.HTTP.Validate(); err != nil {
		return nil, err
	}
	if err := cfg.File.Publish.Check(cfg.File.Mode, cfg.Spec); err != nil {
		return nil, err
	}
	secret := getenv(EnvSecret)
	switch {
	case secret == "" && cfg.File.Mode == ModeProduction:
		return nil, fmt.Errorf("mode production: %s is not set: set it to 32 or more random bytes (development mode uses a public secret)", EnvSecret)
	case secret == "":
		secret = DevelopmentSecret
	}
	if len(secret) < 32 {
		return nil, fmt.Errorf("%s: %d bytes, want at least 32 random bytes", EnvSecret, len(secret))
	}
	cfg.Secret = []byte(secret)
	return cfg, nil
}

// Decode decodes a config file strictly; absent keys keep their defaults.
// Nothing is validated yet, but every key is checked for its name and the
// type of its value first (checkKeys), so that errors give the key's full
// path and line; lines has the line of each key.
func Decode(data []byte) (f File, lines Lines, err error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return File{}, nil, errors.New(strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if doc.Kind == 0 {
		return File{}, nil, errors.New("empty file")
	}
	if lines, err = checkKeys(&doc); err != nil {
		return File{}, nil, err
	}
	f = File{HTTP: ops.Config{Listen: ops.DefaultListen}}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true) // checkConfigKeys should have said it all; belt and braces
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return File{}, nil, errors.New("empty file")
		}
		return File{}, nil, err
	}
	return f, lines, nil
}

// LoadSpec reads the config file at path for a command that needs only
// some of its sections (lookup, privacy plan): the file is decoded
// strictly and its cohorts section checked, nothing else; no Kafka, no
// secret. Errors name the file (and the key's line).
func LoadSpec(path string) (File, cohorts.Spec, error) {
	file, lines, err := Read(path)
	if err != nil {
		return File{}, cohorts.Spec{}, err
	}
	spec, err := specOf(&file.Cohorts)
	if err != nil {
		return File{}, cohorts.Spec{}, fmt.Errorf("config %s: %w", path, lines.locate(err))
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

// CheckClickHouse validates the clickhouse section and sets the password:
// from password_env or password_file, overridden by
// EnvClickHousePassword when that is set. The TLS files are read
// here too, so that a bad CA or client certificate fails at start.
func CheckClickHouse(c *clickhouse.Config, getenv func(string) string) error {
	if err := c.Validate(); err != nil {
		return fmt.Errorf("clickhouse: %w", err)
	}
	pw, err := c.Secret.Read(getenv)
	if err != nil {
		return fmt.Errorf("clickhouse: %w", err)
	}
	if pw != "" {
		c.Password = pw
	}
	if pw := getenv(EnvClickHousePassword); pw != "" {
		c.Password = pw
	}
	if _, err := c.TLS.Config(); err != nil {
		return fmt.Errorf("clickhouse: %w", err)
	}
	return nil
}

// KafkaDialer builds the Kafka dialer of the kafka.tls and kafka.sasl
// blocks of the config file at path ("" is plaintext: nil). The rest of
// the file is checked for its keys only, not its values: gen and the demo
// need no ClickHouse.
func KafkaDialer(path string, getenv func(string) string) (*pipeline.Dialer, error) {
	if path == "" {
		return nil, nil
	}
	f, lines, err := Read(path)
	if err != nil {
		return nil, err
	}
	d, err := pipeline.NewDialer(f.Kafka.TLS, f.Kafka.SASL, getenv)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, lines.locate(err))
	}
	return d, nil
}

// Publisher is the publish.Config of a checked config.
func (c *Config) Publisher() (publish.Config, error) {
	return c.File.Publish.PublisherConfig(c.Spec, c.File.Mode, c.Secret, buildinfo.CodeVersion())
}

// WarnInsecure logs, loudly, every connection whose server certificates go
// unchecked (insecure_skip_verify): anyone on the path can read and change
// its traffic. Every command that connects calls it at start.
func (f *File) WarnInsecure(log *slog.Logger) {
	if f.Kafka.Dialer.Insecure() {
		log.Warn("kafka.tls.insecure_skip_verify is set: the brokers' certificates are NOT verified; anyone on the network path can read and change the traffic, passwords included. Never in production.")
	}
	if f.ClickHouse.TLS.Insecure() {
		log.Warn("clickhouse.tls.insecure_skip_verify is set: the server's certificate is NOT verified; anyone on the network path can read and change the traffic, the password included. Never in production.")
	}
}
