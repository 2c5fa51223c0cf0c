package clickhouse

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/cohortline/cohortline/deploy/devenv"
)

// chdbConn is a driver.Conn that sends the Client's statements to chDB, a
// current ClickHouse release in-process (deploy/devenv ChDB), instead of
// a server, and records each: so the product's own code paths (migrate,
// flushes, publish, republish's swap, the lease, reads) run unchanged on
// a current release, and the test can name every statement they sent.
//
// It implements what Client uses: Exec, Query and QueryRow with
// clickhouse-go's positional ? arguments (bound here as clickhouse-go
// binds them for the native protocol), PrepareBatch (rows sent as
// JSONEachRow), Ping and Close. Anything else is the embedded nil
// interface and panics: a Client change that needs more shows here.
type chdbConn struct {
	driver.Conn
	db *devenv.ChDB

	mu   sync.Mutex
	step string // what the test is doing, for the record
	ran  []ranStatement
}

// ranStatement is one statement sent: the product method that sent it
// ("" for the test's own queries), the test's step, its SQL as sent (an
// insert without its rows) and how it ended.
type ranStatement struct {
	method string // "Client.Migrate", "Writer.WritePartials", "Lease.Check" …
	step   string
	sql    string
	rows   int // rows an insert sent
	err    error
}

func newChdbConn(t *testing.T) *chdbConn {
	t.Helper()
	db := devenv.StartChDB(t)
	// UInt64 as JSON numbers, so that they decode exactly into uint64.
	if _, err := db.Run("SET output_format_json_quote_64bit_integers = 0", ""); err != nil {
		t.Fatal(err)
	}
	// NaN and infinities as "nan", "inf", "-inf" rather than null (a
	// Float64 of a switched-off block's sigma is NaN): scanCell reads them.
	if _, err := db.Run("SET output_format_json_quote_denormals = 1", ""); err != nil {
		t.Fatal(err)
	}
	return &chdbConn{db: db}
}

// setStep names what the statements sent from now on are for.
func (c *chdbConn) setStep(step string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.step = step
}

func (c *chdbConn) statements() []ranStatement {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]ranStatement(nil), c.ran...)
}

// run sends sql, records it as shown (the insert without its data) and
// turns chDB's refusal into the *ch.Exception a server's would be, so
// that IsRetryable and the callers' error paths behave as against one.
func (c *chdbConn) run(sql, shown string, rows int, format string) (string, error) {
	out, err := c.db.Run(sql, format)
	if e := (*devenv.ChDBError)(nil); errors.As(err, &e) {
		err = &ch.Exception{Code: int32(e.Code), Message: e.Message}
	}
	method := productMethod()
	c.mu.Lock()
	c.ran = append(c.ran, ranStatement{method: method, step: c.step, sql: shown, rows: rows, err: err})
	c.mu.Unlock()
	return out, err
}

// productMethod names the outermost exported method of Client, Writer or
// Lease on the calling goroutine's stack: the product call that sent the
// statement (Lease.Check, not the CurrentLease it calls). Without one,
// the outermost unexported method: the Writer's group commit sends from
// a goroutine of its own (Writer.sendGroups). "" when the test sent the
// statement itself.
func productMethod() string {
	pcs := make([]uintptr, 64)
	frames := runtime.CallersFrames(pcs[:runtime.Callers(3, pcs)])
	exported, unexported := "", ""
	for {
		f, more := frames.Next()
		if m := productMethodName.FindStringSubmatch(f.Function); m != nil {
			name := m[1] + "." + m[2]
			if m[2][0] >= 'A' && m[2][0] <= 'Z' {
				exported = name
			} else {
				unexported = name
			}
		}
		if !more {
			return cmp.Or(exported, unexported)
		}
	}
}

var productMethodName = regexp.MustCompile(`/sinks/clickhouse\.\(\*(Client|Writer|Lease)\)\.([A-Za-z][A-Za-z0-9]*)(?:\.|$)`)

func (c *chdbConn) Exec(_ context.Context, query string, args ...any) error {
	q, err := bindArgs(query, args)
	if err != nil {
		return err
	}
	_, err = c.run(q, q, 0, "")
	return err
}

func (c *chdbConn) Query(_ context.Context, query string, args ...any) (driver.Rows, error) {
	q, err := bindArgs(query, args)
	if err != nil {
		return nil, err
	}
	out, err := c.run(q, q, 0, "JSONCompact")
	if err != nil {
		return nil, err
	}
	return parseChdbRows(out)
}

func (c *chdbConn) QueryRow(ctx context.Context, query string, args ...any) driver.Row {
	rows, err := c.Query(ctx, query, args...)
	return &chdbRow{rows: rows, err: err}
}

func (c *chdbConn) PrepareBatch(_ context.Context, query string, _ ...driver.PrepareBatchOption) (driver.Batch, error) {
	return newChdbBatch(c, query)
}

func (c *chdbConn) Ping(context.Context) error { return nil }
func (c *chdbConn) Close() error               { return nil }

// chdbClient is a Client of cfg's databases whose statements go to conn.
func chdbClient(t *testing.T, conn *chdbConn, name string) *Client {
	t.Helper()
	cfg := Config{
		Addr:              []string{"chdb.invalid:9000"}, // never dialled
		Database:          "cl_" + name,
		PublishedDatabase: "clp_" + name,
		Retry:             RetryConfig{MaxAttempts: 2, InitialBackoff: time.Millisecond, MaxBackoff: time.Millisecond},
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	cfg.setDefaults()
	c := &Client{conn: conn, cfg: cfg, now: time.Now}
	c.writer = newWriter(c)
	return c
}

// bindArgs replaces each ? outside quotes with args' next value as a
// literal, as clickhouse-go's positional binding does; it knows the
// argument types Client passes.
func bindArgs(query string, args []any) (string, error) {
	if len(args) == 0 {
		return query, nil
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(query); i++ {
		switch c := query[i]; c {
		case '\'', '`', '"':
			end := i + 1
			for end < len(query) && query[end] != c {
				if query[end] == '\\' {
					end++
				}
				end++
			}
			b.WriteString(query[i:min(end+1, len(query))])
			i = end
		case '?':
			if n == len(args) {
				return "", fmt.Errorf("binding %q: more ? than the %d arguments", query, len(args))
			}
			lit, err := sqlLiteral(args[n])
			if err != nil {
				return "", fmt.Errorf("binding argument %d of %q: %w", n+1, query, err)
			}
			b.WriteString(lit)
			n++
		default:
			b.WriteByte(c)
		}
	}
	if n != len(args) {
		return "", fmt.Errorf("binding %q: %d arguments for %d ?", query, len(args), n)
	}
	return b.String(), nil
}

var literalEscapes = strings.NewReplacer(`\`, `\\`, `'`, `\'`)

func sqlLiteral(v any) (string, error) {
	switch v := v.(type) {
	case string:
		return "'" + literalEscapes.Replace(v) + "'", nil
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return fmt.Sprint(v), nil
	case time.Time:
		return fmt.Sprintf("toDateTime(%d)", v.Unix()), nil
	}
	return "", fmt.Errorf("no literal for %T", v)
}

// insertColumns reads the column list of "INSERT INTO t (a, `b`, c)".
var insertColumns = regexp.MustCompile(`^INSERT INTO [A-Za-z0-9_.]+ \(([^)]*)\)$`)
