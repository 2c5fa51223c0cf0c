package clickhouse

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"github.com/cohortline/cohortline/deploy/devenv"
	"github.com/cohortline/cohortline/schemas"
)

var nonWord = regexp.MustCompile(`[^a-z0-9]+`)

// testConfig returns a Config for the real server with databases of their
// own, named after the test, so tests stay independent of each other and
// of earlier runs.
func testConfig(t testing.TB) Config {
	t.Helper()
	addr := devenv.ClickHouse(t)
	name := nonWord.ReplaceAllString(strings.ToLower(t.Name()), "_")
	if len(name) > 30 {
		name = name[:30]
	}
	suffix := fmt.Sprintf("%s_%d", name, time.Now().UnixNano()%1e9)
	return Config{
		Addr:              []string{addr},
		Database:          "it_" + suffix,
		PublishedDatabase: "itp_" + suffix,
		Retry:             RetryConfig{MaxAttempts: 3, InitialBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond},
	}
}

// migratedClient opens cfg, migrates it and drops its databases at cleanup.
func migratedClient(t testing.TB, cfg Config) *Client {
	t.Helper()
	c := openClient(t, cfg)
	if _, err := c.Migrate(t.Context()); err != nil {
		t.Fatalf("migrating: %v", err)
	}
	return c
}

// openClient opens cfg and drops its databases at cleanup.
func openClient(t testing.TB, cfg Config) *Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	c, err := Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if err := c.DropDatabases(ctx); err != nil { // ON CLUSTER in cluster mode
			t.Error(err)
		}
		c.Close()
	})
	return c
}

// partial is one row of a test record; window, topic, partition and version
// come from the schemas.Flush it is written with.
type partial struct {
	cohort        uint64
	users, events uint64
	values        []uint64
}

var window = time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)

func progressOf(ws time.Time, topic string, partition int32, version uint64, rows int) schemas.Flush {
	return schemas.Flush{WindowStart: ws.UnixMilli(), WindowEnd: ws.Add(time.Hour).UnixMilli(), Topic: topic, Partition: int(partition), Version: version,
		Rows: rows, FirstOffset: 100, LastOffset: 100 + int64(rows), Watermark: ws.Add(time.Hour + 5*time.Minute + 7*time.Millisecond).UnixMilli()}
}

// record builds an Arrow record of PartialsSchema as the cohorts package
// would, from rows of one flush.
func record(t testing.TB, p schemas.Flush, rows []partial) arrow.Record {
	t.Helper()
	b := array.NewRecordBuilder(memory.DefaultAllocator, schemas.PartialsSchema)
	defer b.Release()
	start := arrow.Timestamp(p.WindowStart)
	end := arrow.Timestamp(p.WindowStart + time.Hour.Milliseconds())
	values := b.Field(schemas.PartialValues).(*array.ListBuilder)
	for _, r := range rows {
		b.Field(schemas.PartialWindowStart).(*array.TimestampBuilder).Append(start)
		b.Field(schemas.PartialWindowEnd).(*array.TimestampBuilder).Append(end)
		b.Field(schemas.PartialTopic).(*array.StringBuilder).Append(p.Topic)
		b.Field(schemas.PartialPartition).(*array.Int32Builder).Append(int32(p.Partition))
		b.Field(schemas.PartialCohortID).(*array.Uint64Builder).Append(r.cohort)
		b.Field(schemas.PartialCohortKey).(*array.StringBuilder).Append(fmt.Sprintf("country=C%d|lang=pt|age=25-34|platform=android", r.cohort))
		b.Field(schemas.PartialFeatureSet).(*array.Uint16Builder).Append(1)
		b.Field(schemas.PartialUsers).(*array.Uint64Builder).Append(r.users)
		b.Field(schemas.PartialEvents).(*array.Uint64Builder).Append(r.events)
		values.Append(true)
		values.ValueBuilder().(*array.Uint64Builder).AppendValues(r.values, nil)
		b.Field(schemas.PartialFlushVersion).(*array.Uint64Builder).Append(p.Version)
	}
	rec := b.NewRecord()
	t.Cleanup(rec.Release)
	return rec
}

// write writes rows as one flush and fails the test on error.
func write(t testing.TB, w *Writer, p schemas.Flush, rows []partial) {
	t.Helper()
	p.Rows = len(rows)
	if err := w.WritePartials(t.Context(), record(t, p, rows), p); err != nil {
		t.Fatal(err)
	}
}

func queryUint64(t testing.TB, c *Client, q string) uint64 {
	t.Helper()
	var n uint64
	if err := c.conn.QueryRow(t.Context(), q).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// markReleased records, as publish does before writing rows, a
// published_releases row of production mode for every release of rows
// (window, release, publish time), so that the targeter's views show them.
func markReleased(t testing.TB, c *Client, rows []EnrichmentRow) {
	t.Helper()
	seen := map[string]bool{}
	for _, r := range rows {
		key := fmt.Sprint(r.WindowStart.Unix(), r.Release, r.PublishedAt.Unix())
		if seen[key] {
			continue
		}
		seen[key] = true
		pr := PublishedRelease{WindowStart: r.WindowStart, WindowEnd: r.WindowEnd, Release: r.Release, PublishedAt: r.PublishedAt, Mode: "production"}
		if err := c.AppendPublishedRelease(t.Context(), pr); err != nil {
			t.Fatal(err)
		}
	}
}

// publishRows writes rows as publish does: their releases, then the
// rows, then the same rows to the lookup table.
func publishRows(t testing.TB, c *Client, rows []EnrichmentRow) {
	t.Helper()
	markReleased(t, c, rows)
	if err := c.WriteEnrichment(t.Context(), rows); err != nil {
		t.Fatal(err)
	}
	if err := c.WriteLatest(t.Context(), rows); err != nil {
		t.Fatal(err)
	}
}
