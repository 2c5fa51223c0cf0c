package main

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/segmentio/kafka-go"

	"github.com/cohortline/cohortline/cohorts"
	"github.com/cohortline/cohortline/deploy/devenv"
)

// demoDatabase returns a database name of the test's own (it contains
// "demo", as the demo requires) and drops it and its published twin at
// cleanup.
func demoDatabase(t *testing.T, addr string) string {
	t.Helper()
	db := fmt.Sprintf("it_demo_%d", time.Now().UnixNano())
	t.Cleanup(func() { dropDatabases(t, addr, db, db+"_published") })
	return db
}

func openConn(t *testing.T, addr string) driver.Conn {
	t.Helper()
	conn, err := ch.Open(&ch.Options{Addr: []string{addr}, Protocol: ch.Native})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// TestDemo runs `cohortline demo` small, on the embedded broker, and checks
// what a newcomer relies on: exit 0, a line per stage, the table of top
// cohorts, SQL that runs and returns those cohorts, and published rows
// that each cover at least k users.
func TestDemo(t *testing.T) {
	addr := devenv.ClickHouse(t)
	db := demoDatabase(t, addr)
	code, stdout, stderr := runCLI(t, "", "demo", "--clickhouse", addr, "--database", db, "--users", "5000", "--events", "50000")
	if code != exitOK {
		t.Fatalf("exit %d\nstderr:\n%s\nstdout:\n%s", code, stderr, stdout)
	}
	for _, stage := range []string{"clickhouse  ", "kafka       embedded broker (kfake) at 127.0.0.1:", "produced    50,000 events of 5,000 users",
		"consumed    50,000 events", "flushed     ", "published   "} {
		if !strings.Contains(stderr, "\n"+stage) && !strings.HasPrefix(stderr, stage) {
			t.Errorf("no line %q on stderr:\n%s", stage, stderr)
		}
	}
	table := topTable(t, stdout)
	if len(table) == 0 {
		t.Fatalf("no top-cohorts table on stdout:\n%s", stdout)
	}

	conn := openConn(t, addr)
	k := cohorts.DefaultSpec().K
	var rows, below uint64
	if err := conn.QueryRow(t.Context(), fmt.Sprintf("SELECT count(), countIf(users < %d) FROM %s_published.cohort_enrichment", k, db)).Scan(&rows, &below); err != nil {
		t.Fatal(err)
	}
	if rows == 0 || below != 0 {
		t.Errorf("cohort_enrichment has %d rows, %d of them below k=%d users", rows, below, k)
	}

	queries := regexp.MustCompile(`(?s)\nSELECT .*?;\n`).FindAllString(stdout, -1)
	if len(queries) != 2 || !strings.Contains(queries[0], db+"_published.cohort_enrichment_latest") || !strings.Contains(queries[0], "cityHash64('") {
		t.Fatalf("want the query by key on cohort_enrichment_latest and the table's query, got %d:\n%s", len(queries), stdout)
	}
	latest := queryRows(t, conn, queries[0])
	if len(latest) != len(table) {
		t.Errorf("the query by key returns %d cohorts, the table has %d:\n%v", len(latest), len(table), latest)
	}
	if got := queryRows(t, conn, queries[1]); !equalRows(got, table) {
		t.Errorf("the table's query returns\n%v\nthe table shows\n%v", got, table)
	}
	// The lookup example needs a finest cohort among the top ones.
	lookup := strings.Contains(stdout, "cohortline lookup --clickhouse "+addr+" --published-database "+db+"_published --country ")
	if finest := strings.Contains(stdout, "  finest  "); lookup != finest {
		t.Errorf("finest cohorts in the table: %t, a lookup command: %t:\n%s", finest, lookup, stdout)
	}
}

// topTable parses the demo's table: each row's key and users.
func topTable(t *testing.T, stdout string) [][2]string {
	t.Helper()
	_, after, ok := strings.Cut(stdout, "\ncohort_key ")
	if !ok {
		return nil
	}
	var out [][2]string
	for _, line := range strings.Split(after, "\n")[1:] {
		f := strings.Fields(line)
		if len(f) == 0 {
			break
		}
		users := f[len(f)-1-len(demoFeatures)]
		out = append(out, [2]string{f[0], strings.ReplaceAll(users, ",", "")})
	}
	return out
}

// queryRows runs a query of the demo's output and returns each row's first
// and third columns (cohort_key and users in both queries).
func queryRows(t *testing.T, conn driver.Conn, q string) [][2]string {
	t.Helper()
	rows, err := conn.Query(t.Context(), strings.TrimSuffix(strings.TrimSpace(q), ";"))
	if err != nil {
		t.Fatalf("%v\n%s", err, q)
	}
	defer rows.Close()
	types := rows.ColumnTypes()
	var out [][2]string
	for rows.Next() {
		vals := make([]any, len(types))
		for i, ct := range types {
			vals[i] = newScanTarget(ct.DatabaseTypeName())
		}
		if err := rows.Scan(vals...); err != nil {
			t.Fatal(err)
		}
		out = append(out, [2]string{*vals[0].(*string), strconv.FormatUint(*vals[2].(*uint64), 10)})
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func newScanTarget(typ string) any {
	switch {
	case typ == "String":
		return new(string)
	case typ == "UInt64":
		return new(uint64)
	case typ == "DateTime":
		return new(time.Time)
	case typ == "Float32":
		return new(float32)
	case strings.HasPrefix(typ, "Array"):
		return new([]float32)
	default:
		return new(float64)
	}
}

func equalRows(a, b [][2]string) bool {
	return fmt.Sprint(a) == fmt.Sprint(b)
}

// With --kafka the demo runs on a real broker, in a topic of its own that
// it deletes at the end.
func TestDemoOnARealBroker(t *testing.T) {
	addr, broker := devenv.ClickHouse(t), devenv.Kafka(t)
	db := demoDatabase(t, addr)
	code, stdout, stderr := runCLI(t, "", "demo", "--clickhouse", addr, "--kafka", broker, "--database", db, "--users", "3000", "--events", "30000")
	if code != exitOK {
		t.Fatalf("exit %d\nstderr:\n%s", code, stderr)
	}
	m := regexp.MustCompile(`kafka       broker at \S+: topic (cohortline-demo-\d+) with`).FindStringSubmatch(stderr)
	if m == nil || len(topTable(t, stdout)) == 0 {
		t.Fatalf("no topic on stderr or no table on stdout:\n%s\n%s", stderr, stdout)
	}
	// Kafka deletes topics in the background: wait for it.
	client := &kafka.Client{Addr: kafka.TCP(broker), Timeout: 10 * time.Second}
	var left []string
	gone := func() bool {
		left = left[:0]
		md, err := client.Metadata(t.Context(), &kafka.MetadataRequest{Topics: []string{m[1], m[1] + ".dlq"}})
		if err != nil {
			return false
		}
		for _, topic := range md.Topics {
			if topic.Error == nil {
				left = append(left, topic.Name)
			}
		}
		return len(left) == 0
	}
	if !waitUntil(30*time.Second, gone) {
		t.Errorf("topics %v are still on the broker 30s after the demo", left)
		deleteTopics(broker, left...)
	}
}

// A broker that does not answer fails the demo with one line naming it.
func TestDemoBadBroker(t *testing.T) {
	addr := devenv.ClickHouse(t)
	db := demoDatabase(t, addr)
	code, stdout, stderr := runCLI(t, "", "demo", "--clickhouse", addr, "--kafka", "127.0.0.1:1", "--database", db)
	lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
	if last := lines[len(lines)-1]; code != exitFailure || stdout != "" ||
		!strings.HasPrefix(last, "cohortline: Kafka broker at 127.0.0.1:1 is not answering: ") || !strings.Contains(last, "connection refused") {
		t.Errorf("exit %d, stdout %q, stderr:\n%s", code, stdout, stderr)
	}
}

// SIGINT (here: the command's context) stops the demo promptly, whatever it
// is doing, with exit 1 and a line saying so.
func TestDemoInterrupted(t *testing.T) {
	addr := devenv.ClickHouse(t)
	db := demoDatabase(t, addr)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var stderr lockedBuffer
	var stdout bytes.Buffer
	exit := make(chan int, 1)
	go func() {
		exit <- run(ctx, []string{"demo", "--clickhouse", addr, "--database", db, "--events", "5000000"}, strings.NewReader(""), &stdout, &stderr)
	}()
	// Interrupt while it produces: the broker is up, generation runs.
	if !waitUntil(60*time.Second, func() bool { return strings.Contains(stderr.String(), "\nkafka ") }) {
		cancel()
		t.Fatalf("the demo did not reach its broker stage:\n%s", stderr.String())
	}
	cancel()
	select {
	case code := <-exit:
		if code != exitFailure || !strings.HasSuffix(stderr.String(), "cohortline: demo interrupted\n") || stdout.Len() != 0 {
			t.Errorf("exit %d, stderr:\n%s", code, stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("the demo still runs 15s after the interrupt:\n%s", stderr.String())
	}
}
