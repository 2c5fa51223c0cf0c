package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/cohortline/cohortline/deploy/devenv"
)

// secretSet is the input's user tokens and event ids.
type secretSet struct {
	values  map[string]bool
	lengths []int
}

var secretRun = regexp.MustCompile(`[A-Za-z0-9_-]{8,}`)

// find returns the tokens and ids that occur in text: every substring of
// every run of token characters, of every length a secret has.
func (s secretSet) find(text string) []string {
	var hits []string
	for _, run := range secretRun.FindAllString(text, -1) {
		for _, n := range s.lengths {
			for i := 0; i+n <= len(run); i++ {
				if s.values[run[i:i+n]] {
					hits = append(hits, run[i:i+n])
				}
			}
		}
	}
	return hits
}

// inputSecrets collects the user and id fields of every input line that
// parses as JSON, bad records included.
func inputSecrets(t *testing.T, ndjson string) secretSet {
	t.Helper()
	f, err := os.Open(ndjson)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := secretSet{values: map[string]bool{}}
	lengths := map[int]bool{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var rec struct {
			User, ID any
		}
		if json.Unmarshal(sc.Bytes(), &rec) != nil {
			continue
		}
		for _, v := range []any{rec.User, rec.ID} {
			if str, ok := v.(string); ok && len(str) >= 8 && secretRun.MatchString(str) && secretRun.FindString(str) == str {
				s.values[str] = true
				lengths[len(str)] = true
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	for n := range lengths {
		s.lengths = append(s.lengths, n)
	}
	if len(s.values) < 1000 {
		t.Fatalf("only %d tokens and ids in the input", len(s.values))
	}
	return s
}

// scanTables reads every String, FixedString and Array column of every
// table and view of db and fails on any input token or event id; it
// returns how many columns it read.
func scanTables(t *testing.T, s *faultSet, db string, secrets secretSet) int {
	t.Helper()
	rows, err := s.conn.Query(t.Context(), `SELECT table, name FROM system.columns WHERE database = ?
		AND (type LIKE '%String%' OR type LIKE 'Array%') ORDER BY table, name`, db)
	if err != nil {
		t.Fatal(err)
	}
	var cols [][2]string
	for rows.Next() {
		var table, name string
		if err := rows.Scan(&table, &name); err != nil {
			t.Fatal(err)
		}
		cols = append(cols, [2]string{table, name})
	}
	rows.Close()
	for _, c := range cols {
		vals, err := s.conn.Query(t.Context(), fmt.Sprintf("SELECT toString(`%s`) FROM %s.`%s`", c[1], db, c[0]))
		if err != nil {
			t.Fatalf("reading %s.%s.%s: %v", db, c[0], c[1], err)
		}
		for vals.Next() {
			var v string
			if err := vals.Scan(&v); err != nil {
				t.Fatal(err)
			}
			if hits := secrets.find(v); len(hits) > 0 {
				t.Errorf("%s.%s column %s holds input token or event id %q", db, c[0], c[1], hits[0])
			}
		}
		vals.Close()
	}
	return len(cols)
}

// deadLetterHits reads the dead-letter topic. A pii_suspected dead letter
// has no key and no value; any other carries the rejected record verbatim
// (DESIGN.md: for inspection and re-drive), so a token may occur in its
// key and value, but nowhere else: not in a header, and not in a value
// that is not byte for byte an input record.
func deadLetterHits(t *testing.T, s *faultSet, secrets secretSet) {
	t.Helper()
	lines := map[string]bool{}
	data, err := os.ReadFile(s.ndjson)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range bytes.Split(data, []byte("\n")) {
		lines[string(l)] = true
	}
	topic := s.name + ".dlq"
	total := 0
	for p := range partitionCount(t, s.kafka, topic) {
		end := topicSizeOf(t, s.kafka, topic, p)
		if end == 0 {
			continue
		}
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{s.kafka}, Topic: topic, Partition: p, MaxWait: 100 * time.Millisecond})
		for range end {
			m, err := r.ReadMessage(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			total++
			reason := ""
			for _, h := range m.Headers {
				if hits := secrets.find(string(h.Value)); len(hits) > 0 {
					t.Errorf("dead letter at %d: header %s holds %q", m.Offset, h.Key, hits[0])
				}
				if h.Key == "reason" {
					reason = string(h.Value)
				}
			}
			switch {
			case reason == "pii_suspected" && (len(m.Key) > 0 || len(m.Value) > 0):
				t.Errorf("pii_suspected dead letter at %d has a key or value", m.Offset)
			case reason != "pii_suspected" && !lines[string(m.Value)] && len(secrets.find(string(m.Value))) > 0:
				t.Errorf("dead letter at %d carries a token in a value that is not the rejected record", m.Offset)
			}
		}
		r.Close()
	}
	if total == 0 {
		t.Error("no dead letters: the data set has bad records, the test proves nothing")
	}
}

// topicSizeOf is the end offset of one partition.
func topicSizeOf(t *testing.T, addr, topic string, partition int) int64 {
	t.Helper()
	client := &kafka.Client{Addr: kafka.TCP(addr)}
	resp, err := client.ListOffsets(t.Context(), &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: {kafka.LastOffsetOf(partition)}}})
	if err != nil {
		t.Fatal(err)
	}
	return resp.Topics[topic][0].LastOffset
}

// TestPublishRefusesAnUnmigratedDatabase: publish against a database that
// run, backfill or migrate never created (a typo in clickhouse.database)
// fails naming the key, and creates neither database.
func TestPublishRefusesAnUnmigratedDatabase(t *testing.T) {
	addr := devenv.ClickHouse(t)
	db := fmt.Sprintf("it_never_migrated_%d", time.Now().UnixNano())
	config := writeConfig(t, fmt.Sprintf("mode: development\nkafka: {brokers: [127.0.0.1:1], topic: t}\n"+
		"clickhouse: {addr: [%s], database: %s, published_database: %s_published}\n", addr, db, db))
	code, out, errOut := runCLI(t, "", "publish", "--config", config, "--window", "2026-11-01")
	if code != exitUsage || !strings.Contains(errOut, `clickhouse.database "`+db+`"`) || !strings.Contains(errOut, "was never migrated") {
		t.Errorf("exit %d, stdout %q, stderr %q; want exit %d naming clickhouse.database", code, out, errOut, exitUsage)
	}
	conn := openConn(t, addr)
	var n uint64
	if err := conn.QueryRow(t.Context(), "SELECT count() FROM system.databases WHERE name IN (?, ?)", db, db+"_published").Scan(&n); err != nil || n != 0 {
		t.Errorf("publish created %d databases (%v)", n, err)
	}
}
