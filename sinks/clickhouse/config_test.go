package clickhouse

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func TestConfigValidateNamesTheKey(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want string // "" for valid
	}{
		{"zero value takes defaults", Config{}, ""},
		{"full", Config{Addr: []string{"ch1:9000", "[::1]:9440"}, Database: "a", PublishedDatabase: "b", Cluster: "prod", ZooKeeperPath: "/ch"}, ""},
		{"no port", Config{Addr: []string{"localhost"}}, "addr[0]"},
		{"bad port", Config{Addr: []string{"h:9000", "h:x"}}, "addr[1]"},
		{"database", Config{Database: "a-b"}, "database"},
		{"published_database", Config{PublishedDatabase: "drop table"}, "published_database"},
		{"same databases", Config{Database: "x", PublishedDatabase: "x"}, "both"},
		{"cluster", Config{Cluster: "a'b"}, "cluster"},
		{"zookeeper_path", Config{ZooKeeperPath: "tables"}, "zookeeper_path"},
		{"dial_timeout", Config{DialTimeout: -time.Second}, "dial_timeout"},
		{"read_timeout negative", Config{ReadTimeout: -time.Second}, "read_timeout"},
		{"read_timeout too short", Config{ReadTimeout: 500 * time.Millisecond}, "read_timeout"},
		{"write_timeout", Config{WriteTimeout: time.Millisecond}, "write_timeout"},
		{"timeouts", Config{ReadTimeout: 2 * time.Second, WriteTimeout: time.Second}, ""},
		{"max_attempts", Config{Retry: RetryConfig{MaxAttempts: -1}}, "retry.max_attempts"},
		{"max_backoff", Config{Retry: RetryConfig{InitialBackoff: time.Minute, MaxBackoff: time.Second}}, "retry.max_backoff"},
	} {
		err := tc.cfg.Validate()
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.want) && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: Validate() = %v, want an error naming %q", tc.name, err, tc.want)
		}
	}
}

func TestConfigFromYAML(t *testing.T) {
	src := `
addr: [ch1:9000, ch2:9000]
database: cl
published_database: clp
cluster: prod
retry:
  max_attempts: 3
  initial_backoff: 250ms
  max_backoff: 5s
dial_timeout: 2s
`
	var cfg Config
	dec := yaml.NewDecoder(strings.NewReader(src))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if cfg.Retry.InitialBackoff != 250*time.Millisecond || cfg.DialTimeout != 2*time.Second || len(cfg.Addr) != 2 || cfg.Cluster != "prod" {
		t.Errorf("decoded %+v", cfg)
	}
}

func TestConfigDefaults(t *testing.T) {
	var cfg Config
	cfg.setDefaults()
	if cfg.Addr[0] != "127.0.0.1:9000" || cfg.Database != "cohortline" || cfg.PublishedDatabase != "cohortline_published" ||
		cfg.Username != "default" || cfg.Retry.MaxAttempts != DefaultMaxAttempts || cfg.DialTimeout != DefaultDialTimeout {
		t.Errorf("defaults: %+v", cfg)
	}
}

func TestConfigLogValueOmitsPassword(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	log.Info("starting", "clickhouse", Config{Addr: []string{"h:9000"}, Password: "s3cret-pw"})
	if strings.Contains(buf.String(), "s3cret-pw") || !strings.Contains(buf.String(), `"password_set":true`) {
		t.Errorf("log line: %s", buf.String())
	}
}

func TestOpenFailureNamesTheAddressNotThePassword(t *testing.T) {
	addr := closedPort(t)
	_, err := Open(t.Context(), Config{Addr: []string{addr}, Password: "s3cret-pw", DialTimeout: time.Second})
	if err == nil || !strings.Contains(err.Error(), "connecting to ClickHouse at "+addr) || strings.Contains(err.Error(), "s3cret-pw") {
		t.Errorf("Open of a closed port: %v", err)
	}
	if !IsRetryable(err) {
		t.Errorf("IsRetryable(%v) = false", err)
	}
	if _, err := Open(t.Context(), Config{Database: "bad name"}); err == nil || !strings.Contains(err.Error(), "database") {
		t.Errorf("Open with a bad database name: %v", err)
	}
}
