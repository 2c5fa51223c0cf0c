package clickhouse

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/go-faster/city"
)

// Lookup benchmark (issue 19): the targeter's newest vectors of 1, 100
// and 1,000 random cohorts, over published tables of 20k cohorts × 50
// windows (1M rows) and, when asked, 200k × 50 (10M), 92 slots each;
// the old query (the view cohort_enrichment_latest over cohort_enrichment,
// with the predicate pushed down as the targeter's profile does) against
// the lookup table cohort_latest, read with FINAL and with argMax.
//
// COHORTLINE_BENCH_LOOKUP_ROWS lists the sizes (default 1000000; make
// bench passes BENCH_LOOKUP_ROWS), COHORTLINE_BENCH_LOOKUP_QUERIES the
// queries per cell (default 100). The rows are generated on the server
// (INSERT … SELECT FROM numbers()) in databases of their own, dropped at
// the end. It prints a table of p50 and p99 latencies, measured in this
// process over the native protocol, each query's rows read to the end.
func BenchmarkLookupLatest(b *testing.B) {
	sizes := []int{1_000_000}
	if env := os.Getenv("COHORTLINE_BENCH_LOOKUP_ROWS"); env != "" {
		sizes = nil
		for _, s := range strings.Split(env, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil || n < lookupWindows || n%lookupWindows != 0 {
				b.Fatalf("COHORTLINE_BENCH_LOOKUP_ROWS %q: want row counts that are multiples of %d", env, lookupWindows)
			}
			sizes = append(sizes, n)
		}
	}
	queries := 100
	if env := os.Getenv("COHORTLINE_BENCH_LOOKUP_QUERIES"); env != "" {
		n, err := strconv.Atoi(env)
		if err != nil || n < 1 {
			b.Fatalf("COHORTLINE_BENCH_LOOKUP_QUERIES %q: want a positive number", env)
		}
		queries = n
	}
	var lines []string
	for _, rows := range sizes {
		c := migratedClient(b, testConfig(b))
		start := time.Now()
		lookupLoad(b, c, rows)
		b.Logf("loaded %d published rows (%d cohorts) in %s", rows, rows/lookupWindows, time.Since(start).Round(time.Millisecond))
		for _, ids := range []int{1, 100, 1000} {
			for _, q := range lookupQueries(c) {
				p50, p99 := lookupLatency(b, c, q, rows/lookupWindows, ids, queries)
				lines = append(lines, fmt.Sprintf("%10d  %5d  %-34s %9.1f %9.1f", rows, ids, q.name, ms(p50), ms(p99)))
				fmt.Println("lookup:", lines[len(lines)-1]) // as it goes: a long run that fails keeps its figures
				if rows == sizes[0] && ids == 100 {
					b.ReportMetric(ms(p99), "p99-ms-100ids-"+q.unit)
				}
			}
		}
		if err := c.DropDatabases(b.Context()); err != nil {
			b.Error(err)
		}
	}
	fmt.Printf("\nlookup latency (%d queries per cell, random cohorts, native protocol; ms)\n%10s  %5s  %-34s %9s %9s\n%s\n",
		queries, "rows", "ids", "query", "p50", "p99", strings.Join(lines, "\n"))
}

const (
	lookupWindows = 50
	lookupSlots   = 92
)

// lookupLoad fills c's published database with rows rows: rows/50
// cohorts, each published in 50 hourly windows, every release in
// published_releases, and cohort_latest as publish keeps it.
func lookupLoad(b *testing.B, c *Client, rows int) {
	ctx, cancel := context.WithTimeout(b.Context(), 30*time.Minute)
	defer cancel()
	pub := c.cfg.PublishedDatabase
	cohorts := rows / lookupWindows
	const base = 1793750400 // 2026-11-04 00:00 UTC
	// Row n: cohort n % cohorts, window n / cohorts; published two hours
	// after the window starts. Features vary by row and slot.
	row := func(n string) string {
		return fmt.Sprintf(`SELECT toDateTime(%[2]d + intDiv(%[1]s, %[3]d) * 3600) AS ws, ws + 3600 AS we,
	cityHash64(concat('country=C', toString(%[1]s %% %[3]d), '|lang=*|age=*|platform=*')) AS id,
	concat('country=C', toString(%[1]s %% %[3]d), '|lang=*|age=*|platform=*') AS key, 'platform,age,lang' AS lvl,
	toUInt64(50 + %[1]s %% 1000) AS u, arrayMap(i -> toFloat32((%[1]s * 7 + i * 13) %% 1000), range(%[4]d)) AS f,
	toUInt16(1) AS fs, 'spec1-bench-fs1' AS rel, ws + 7200 AS pa`, n, base, cohorts, lookupSlots)
	}
	const chunk = 1_000_000
	for off := 0; off < rows; off += chunk {
		n := min(chunk, rows-off)
		stmt := fmt.Sprintf("INSERT INTO %s.cohort_enrichment (%s) SELECT ws, we, id, key, lvl, u, f, fs, rel, pa FROM (%s FROM (SELECT number + %d AS n FROM numbers(%d)))",
			pub, strings.Join(enrichmentColumns, ", "), row("n"), off, n)
		if err := c.conn.Exec(ctx, stmt); err != nil {
			b.Fatalf("loading rows %d to %d: %v", off, off+n, err)
		}
	}
	releases := fmt.Sprintf("INSERT INTO %s.published_releases (window_start, window_end, release, published_at, mode) SELECT toDateTime(%d + number * 3600) AS ws, ws + 3600, 'spec1-bench-fs1', ws + 7200, 'test' FROM numbers(%d)",
		pub, base, lookupWindows)
	// The newest window of every cohort, as publish's upserts leave it.
	latest := fmt.Sprintf("INSERT INTO %s.cohort_latest (%s) SELECT id, ws, we, key, lvl, u, f, fs, rel, pa, %s FROM (%s FROM (SELECT number + %d AS n FROM numbers(%d)))",
		pub, latestColumns, latestVersionSQL("ws", "pa"), row("n"), (lookupWindows-1)*cohorts, cohorts)
	for _, stmt := range []string{releases, latest, "OPTIMIZE TABLE " + pub + ".cohort_latest FINAL"} {
		if err := c.conn.Exec(ctx, stmt); err != nil {
			b.Fatalf("%s: %v", stmt, err)
		}
	}
}

type lookupQuery struct {
	name string
	unit string // in metric names
	sql  func(ids string) string
	ctx  func(context.Context) context.Context
}

// lookupQueries are the old query and the two readings of cohort_latest.
func lookupQueries(c *Client) []lookupQuery {
	pub := c.cfg.PublishedDatabase
	pushdown := func(ctx context.Context) context.Context {
		return ch.Context(ctx, ch.WithSettings(ch.Settings{"enable_optimize_predicate_expression": 1}))
	}
	plain := func(ctx context.Context) context.Context { return ctx }
	return []lookupQuery{
		{"old: cohort_enrichment_latest view", "old", func(ids string) string {
			return "SELECT cohort_key, window_start, users, features FROM " + pub + ".cohort_enrichment_latest WHERE cohort_id IN (" + ids + ")"
		}, pushdown},
		{"new: cohort_latest FINAL", "final", func(ids string) string {
			return "SELECT cohort_key, window_start, users, features FROM " + pub + ".cohort_latest FINAL WHERE cohort_id IN (" + ids + ")"
		}, plain},
		{"new: cohort_latest argMax", "argmax", func(ids string) string {
			return "SELECT cohort_id, argMax((cohort_key, window_start, users, features), version) FROM " + pub +
				".cohort_latest WHERE cohort_id IN (" + ids + ") GROUP BY cohort_id"
		}, plain},
		{"new: lookup (ReadEnrichment)", "lookup", func(ids string) string {
			return latestByID(pub+".cohort_latest", ids)
		}, plain},
	}
}

// lookupLatency runs q queries times, each for ids random cohorts of
// cohorts, and returns the median and 99th percentile latency, checking
// that every query finds every cohort.
func lookupLatency(b *testing.B, c *Client, q lookupQuery, cohorts, ids, queries int) (p50, p99 time.Duration) {
	ctx := q.ctx(b.Context())
	rng := rand.New(rand.NewPCG(uint64(ids), uint64(cohorts)))
	list := make([]string, 0, ids)
	took := make([]time.Duration, 0, queries)
	for range queries {
		list = list[:0]
		for range ids {
			key := fmt.Sprintf("country=C%d|lang=*|age=*|platform=*", rng.IntN(cohorts))
			list = append(list, strconv.FormatUint(city.CH64([]byte(key)), 10))
		}
		slices.Sort(list)
		list = slices.Compact(list)
		start := time.Now()
		rows, err := c.conn.Query(ctx, q.sql(strings.Join(list, ", ")))
		if err != nil {
			b.Fatalf("%s: %v", q.name, err)
		}
		n := 0
		for rows.Next() {
			n++
		}
		err = rows.Err()
		rows.Close()
		took = append(took, time.Since(start))
		if err != nil || n != len(list) {
			b.Fatalf("%s for %d cohorts: %d rows, %v", q.name, len(list), n, err)
		}
	}
	slices.Sort(took)
	return took[len(took)/2], took[min(len(took)-1, len(took)*99/100)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
