package clickhouse

import (
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/cohortline/cohortline/schemas"
)

// Config says which ClickHouse to use and how hard to try. Zero values take
// the defaults below; Validate names the YAML key of a bad value (relative
// to the section this struct is loaded into).
type Config struct {
	// Addr lists native-protocol host:port addresses (not HTTP: 18.16 speaks
	// only the native protocol to clickhouse-go). Default 127.0.0.1:9000.
	Addr []string `yaml:"addr"`
	// Database holds the internal tables. Default "cohortline".
	Database string `yaml:"database"`
	// PublishedDatabase holds what the targeter may read; its account is
	// given this database only. Default "cohortline_published".
	PublishedDatabase string `yaml:"published_database"`
	// Username defaults to "default".
	Username string `yaml:"username"`
	// Password: the CLI sets it from the environment variable
	// COHORTLINE_CLICKHOUSE_PASSWORD, so it need not be in a file. It is
	// never logged: LogValue leaves it out and errors never include it.
	Password string `yaml:"password"`
	// Cluster, when set, creates tables ON CLUSTER with Replicated* engines
	// and Distributed tables (schemas.DDLOptions), and makes inserts into
	// Distributed tables synchronous.
	Cluster string `yaml:"cluster"`
	// ZooKeeperPath prefixes Replicated* paths in cluster mode. Default
	// "/clickhouse/tables".
	ZooKeeperPath string `yaml:"zookeeper_path"`
	// DialTimeout bounds one connection attempt. Default 5s.
	DialTimeout time.Duration `yaml:"dial_timeout"`
	// ReadTimeout bounds the wait for the server's answer to one
	// statement (clickhouse-go sets it once per statement, not per read):
	// a server that accepted the connection and went silent fails the
	// statement after this, and the retry or the worker's restart takes
	// over. It must exceed the longest statement: a publish reads a
	// window's partials in one query. Default 60s (clickhouse-go's own
	// default is 5 minutes).
	ReadTimeout time.Duration `yaml:"read_timeout"`
	// WriteTimeout bounds each write of a statement or a block of rows to
	// the socket: a server that stopped reading fails it after this.
	// Default 30s.
	WriteTimeout time.Duration `yaml:"write_timeout"`
	Retry        RetryConfig   `yaml:"retry"`
}

// RetryConfig bounds the retries of a write that failed with a retryable
// error (IsRetryable): waits grow from InitialBackoff, doubling up to
// MaxBackoff, with jitter. A write that is still failing after MaxAttempts
// returns an error that IsRetryable still reports as retryable, so the
// pipeline can hold its offsets and try again later instead of dropping.
type RetryConfig struct {
	MaxAttempts    int           `yaml:"max_attempts"`    // tries in all, first one included; default 8
	InitialBackoff time.Duration `yaml:"initial_backoff"` // default 100ms
	MaxBackoff     time.Duration `yaml:"max_backoff"`     // default 10s
	// OnRetry, when set, is called before each wait to try an operation
	// again (not for its first try): the CLI counts retries in a metric
	// with it. It must be safe for concurrent use and quick.
	OnRetry func() `yaml:"-"`
	// Observe, when set, is called after every attempt of an operation
	// with a retryable error (the server cannot be reached, or is
	// overloaded) or with nil when the attempt succeeded: `run` reports
	// ClickHouse's connection failures and recovery from it. It must be
	// safe for concurrent use and quick.
	Observe func(err error) `yaml:"-"`
}

// Defaults of Config.
const (
	DefaultAddr           = "127.0.0.1:9000"
	DefaultUsername       = "default"
	DefaultDialTimeout    = 5 * time.Second
	DefaultReadTimeout    = 60 * time.Second
	DefaultWriteTimeout   = 30 * time.Second
	DefaultMaxAttempts    = 8
	DefaultInitialBackoff = 100 * time.Millisecond
	DefaultMaxBackoff     = 10 * time.Second
)

// Published is the published database's name, its default when unset.
func (c Config) Published() string {
	c.setDefaults()
	return c.PublishedDatabase
}

func (c *Config) setDefaults() {
	if len(c.Addr) == 0 {
		c.Addr = []string{DefaultAddr}
	}
	if c.Database == "" {
		c.Database = schemas.DefaultDatabase
	}
	if c.PublishedDatabase == "" {
		c.PublishedDatabase = schemas.DefaultPublishedDatabase
	}
	if c.Username == "" {
		c.Username = DefaultUsername
	}
	if c.ZooKeeperPath == "" {
		c.ZooKeeperPath = schemas.DefaultZooKeeperPath
	}
	if c.DialTimeout == 0 {
		c.DialTimeout = DefaultDialTimeout
	}
	if c.ReadTimeout == 0 {
		c.ReadTimeout = DefaultReadTimeout
	}
	if c.WriteTimeout == 0 {
		c.WriteTimeout = DefaultWriteTimeout
	}
	if c.Retry.MaxAttempts == 0 {
		c.Retry.MaxAttempts = DefaultMaxAttempts
	}
	if c.Retry.InitialBackoff == 0 {
		c.Retry.InitialBackoff = DefaultInitialBackoff
	}
	if c.Retry.MaxBackoff == 0 {
		c.Retry.MaxBackoff = DefaultMaxBackoff
	}
}

// Validate reports the first bad setting, naming its key. Zero values are
// valid: they take the defaults.
func (c Config) Validate() error {
	c.setDefaults()
	for i, a := range c.Addr {
		host, port, err := net.SplitHostPort(a)
		if err != nil || host == "" {
			return fmt.Errorf("addr[%d]: %q is not host:port", i, a)
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("addr[%d]: %q has no valid port", i, a)
		}
	}
	if err := c.ddlOptions().Validate(); err != nil {
		return err // names the key: database, published_database, cluster, zookeeper_path
	}
	switch {
	case c.DialTimeout < 0:
		return fmt.Errorf("dial_timeout: %s is negative", c.DialTimeout)
	case c.ReadTimeout < 0:
		return fmt.Errorf("read_timeout: %s is negative", c.ReadTimeout)
	case c.ReadTimeout < time.Second:
		// Below a second, a loaded but healthy server fails statements.
		return fmt.Errorf("read_timeout: %s, want at least 1s (the longest statement must fit)", c.ReadTimeout)
	case c.WriteTimeout < 0:
		return fmt.Errorf("write_timeout: %s is negative", c.WriteTimeout)
	case c.WriteTimeout < 100*time.Millisecond:
		return fmt.Errorf("write_timeout: %s, want at least 100ms", c.WriteTimeout)
	case c.Retry.MaxAttempts < 0:
		return fmt.Errorf("retry.max_attempts: %d is negative", c.Retry.MaxAttempts)
	case c.Retry.InitialBackoff < 0:
		return fmt.Errorf("retry.initial_backoff: %s is negative", c.Retry.InitialBackoff)
	case c.Retry.MaxBackoff < c.Retry.InitialBackoff:
		return fmt.Errorf("retry.max_backoff: %s is below retry.initial_backoff %s", c.Retry.MaxBackoff, c.Retry.InitialBackoff)
	}
	return nil
}

func (c Config) ddlOptions() schemas.DDLOptions {
	return schemas.DDLOptions{
		Database:          c.Database,
		PublishedDatabase: c.PublishedDatabase,
		Cluster:           c.Cluster,
		ZooKeeperPath:     c.ZooKeeperPath,
	}
}

// LogValue logs the configuration without the password.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Any("addr", c.Addr),
		slog.String("database", c.Database),
		slog.String("published_database", c.PublishedDatabase),
		slog.String("username", c.Username),
		slog.Bool("password_set", c.Password != ""),
		slog.String("cluster", c.Cluster),
	)
}
