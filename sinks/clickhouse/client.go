package clickhouse

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Client is a connection pool to one ClickHouse deployment, safe for
// concurrent use by many partition workers.
type Client struct {
	conn   driver.Conn
	cfg    Config // defaults set
	now    func() time.Time
	writer *Writer

	// replicas are clients of single servers of the cluster, by address,
	// opened on first use (replicaClient) and closed with the Client.
	replicasMu sync.Mutex
	replicas   map[string]*Client
	// replicaWait bounds the wait for a replica to catch up
	// (replicas.go); 0 is defaultReplicaWait. Tests shorten it.
	replicaWait time.Duration
}

// Open connects over the native protocol with LZ4 compression and checks the
// server answers, so that a wrong address fails here, naming it, rather than
// at the first write.
func Open(ctx context.Context, cfg Config) (*Client, error) {
	c, err := open(cfg)
	if err != nil {
		return nil, err
	}
	if err := c.conn.Ping(ctx); err != nil {
		c.conn.Close()
		return nil, fmt.Errorf("connecting to ClickHouse at %s: %w", c.addrs(), err)
	}
	return c, nil
}

// open builds the pool without connecting: clickhouse-go dials on first use.
func open(cfg Config) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("ClickHouse configuration: %w", err)
	}
	cfg.setDefaults()
	opts := &ch.Options{
		Addr:     cfg.Addr,
		Protocol: ch.Native,
		// No Database: every statement names its database, and the
		// databases do not exist before the first migrate.
		Auth:        ch.Auth{Username: cfg.Username, Password: cfg.Password},
		Compression: &ch.Compression{Method: ch.CompressionLZ4},
		DialTimeout: cfg.DialTimeout,
		ReadTimeout: cfg.ReadTimeout,
		DialContext: deadlineDialer(cfg.DialTimeout, cfg.WriteTimeout),
		// Idle connections would otherwise keep the encode and compress
		// buffers of their largest insert: a group of flushes is tens of
		// MB, held per pooled connection. Inserts are few (group commit),
		// so allocating them again per insert costs little.
		FreeBufOnConnRelease: true,
		ClientInfo:           ch.ClientInfo{Products: []struct{ Name, Version string }{{Name: "cohortline"}}},
	}
	if cfg.Cluster != "" {
		// SETTINGS on INSERT is not available on 18.16; settings sent with
		// every query are. Synchronous Distributed inserts make an
		// acknowledged write mean the shards have it, and keep a flush's
		// progress row from arriving before its partials.
		opts.Settings = ch.Settings{"insert_distributed_sync": 1}
	}
	conn, err := ch.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("connecting to ClickHouse at %s: %w", strings.Join(cfg.Addr, ","), err)
	}
	c := &Client{conn: conn, cfg: cfg, now: time.Now}
	c.writer = newWriter(c)
	return c, nil
}

// deadlineDialer dials like clickhouse-go (within the dial timeout, and
// now honouring the context) and gives every write on the connection a
// deadline: clickhouse-go bounds reads by ReadTimeout but leaves writes
// unbounded unless the context has a deadline, so a server that stops
// reading would hold a flush's block write forever.
func deadlineDialer(dial, write time.Duration) func(context.Context, string) (net.Conn, error) {
	d := &net.Dialer{Timeout: dial}
	return func(ctx context.Context, addr string) (net.Conn, error) {
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return nil, err
		}
		return &writeDeadlineConn{Conn: conn, timeout: write}, nil
	}
}

// writeDeadlineConn sets a write deadline before each write. clickhouse-go
// writes whole buffers (a statement, a compressed block), so this is one
// deadline per block, not per row.
type writeDeadlineConn struct {
	net.Conn
	timeout time.Duration
}

func (c *writeDeadlineConn) Write(b []byte) (int, error) {
	if err := c.Conn.SetWriteDeadline(time.Now().Add(c.timeout)); err != nil {
		return 0, err
	}
	return c.Conn.Write(b)
}

// PublishedDatabase is the name of the published database, defaults
// applied.
func (c *Client) PublishedDatabase() string { return c.cfg.PublishedDatabase }

// Close closes the pool's connections.
func (c *Client) Close() error {
	c.replicasMu.Lock()
	for _, rc := range c.replicas {
		rc.Close()
	}
	c.replicas = nil
	c.replicasMu.Unlock()
	return c.conn.Close()
}

// replicaClient returns a client of the one server at addr, a replica of
// the cluster, for what must read or act on that replica's own tables.
// It fails fast: one attempt, as the caller tries the next replica.
func (c *Client) replicaClient(addr string) (*Client, error) {
	c.replicasMu.Lock()
	defer c.replicasMu.Unlock()
	if rc, ok := c.replicas[addr]; ok {
		return rc, nil
	}
	cfg := c.cfg
	cfg.Cluster, cfg.Addr = "", []string{addr}
	cfg.Retry.MaxAttempts = 1
	rc, err := open(cfg)
	if err != nil {
		return nil, err
	}
	if c.replicas == nil {
		c.replicas = map[string]*Client{}
	}
	c.replicas[addr] = rc
	return rc, nil
}

func (c *Client) addrs() string { return strings.Join(c.cfg.Addr, ",") }

// table returns the qualified name programs read and write: the Distributed
// table in cluster mode, the only one otherwise.
func (c *Client) table(db, name string) string { return db + "." + name }

// localName returns the name of the table that holds the parts, what DROP
// PARTITION acts on: <name>_local in cluster mode.
func (c *Client) localName(name string) string {
	if c.cfg.Cluster != "" {
		return name + "_local"
	}
	return name
}

// onCluster returns " ON CLUSTER `c`" in cluster mode.
func (c *Client) onCluster() string {
	if c.cfg.Cluster != "" {
		return " ON CLUSTER `" + c.cfg.Cluster + "`"
	}
	return ""
}
