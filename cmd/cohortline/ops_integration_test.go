package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cohortline/cohortline/deploy/devenv"
	"github.com/cohortline/cohortline/schemas"
)

// syncBuffer is a bytes.Buffer that `run` may write while the test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestRunServesMetricsAndProbes runs `run` on the real servers with the HTTP
// server on a free port: /healthz answers, /readyz turns 200 once the
// consumer joined, /metrics counts every message of the topic by outcome
// with lag, watermark and flushes per partition, and neither the metrics
// nor the logs contain a user token or an event id. The server is gone once
// the command stops.
func TestRunServesMetricsAndProbes(t *testing.T) {
	kafkaAddr, chAddr := devenv.Kafka(t), devenv.ClickHouse(t)
	suffix := time.Now().UnixNano()
	topic, db := fmt.Sprintf("it-ops-%d", suffix), fmt.Sprintf("it_ops_%d", suffix)
	dir := t.TempDir()
	ndjson := filepath.Join(dir, "events.ndjson")
	genFlags := []string{"gen", "--seed", "9", "--users", "400", "--events", "6000", "--span", "3h", "--bad", "0.02"}
	for _, out := range [][]string{{"--out", ndjson}, {"--kafka", kafkaAddr, "--topic", topic, "--partitions", "2"}} {
		if code, _, errOut := runCLI(t, "", append(genFlags, out...)...); code != exitOK {
			t.Fatalf("gen %v: exit %d: %s", out, code, errOut)
		}
	}
	t.Cleanup(func() { deleteTopics(kafkaAddr, topic, topic+".dlq") })
	t.Cleanup(func() { dropDatabases(t, chAddr, db, db+"_published") })
	records, tokens, ids := readSecrets(t, ndjson)

	config := filepath.Join(dir, "cohortline.yaml")
	writeTestFile(t, config, fmt.Sprintf(`mode: development
kafka: {brokers: [%s], topic: %s, group: %s, idle_timeout: 1s}
cohorts: {window: 1h, feature_set: 1} # several windows to flush
clickhouse: {addr: [%s], database: %s, published_database: %s_published}
http: {listen: "127.0.0.1:0"}
`, kafkaAddr, topic, topic, chAddr, db, db))
	ctx, stop := context.WithCancel(t.Context())
	defer stop()
	var logs syncBuffer
	exit := make(chan int, 1)
	go func() {
		exit <- run(ctx, []string{"run", "--config", config}, strings.NewReader(""), io.Discard, &logs)
	}()

	base := "http://" + waitForLog(t, &logs, "http: serving /metrics, /healthz, /readyz", "addr", exit)
	if code, body := httpGet(t, base+"/healthz"); code != http.StatusOK || body != "ok" {
		t.Errorf("/healthz while starting: %d %q", code, body)
	}
	waitFor(t, 60*time.Second, exit, &logs, "/readyz 200", func() bool {
		code, _ := httpGet(t, base+"/readyz")
		return code == http.StatusOK
	})
	var metrics string
	waitFor(t, 90*time.Second, exit, &logs, "every message handled and flushed", func() bool {
		_, metrics = httpGet(t, base+"/metrics")
		return sample(metrics, "cohortline_events_total") >= float64(records) &&
			sample(metrics, `cohortline_lag_messages{partition="0"}`) == 0 &&
			sample(metrics, `cohortline_lag_messages{partition="1"}`) == 0 &&
			sample(metrics, "cohortline_flushes_total") >= 4
	})
	for _, name := range []string{
		`cohortline_watermark_seconds{partition="0"}`, `cohortline_watermark_seconds{partition="1"}`,
		`cohortline_open_windows{partition="0"}`, `cohortline_commits_total{partition="1"}`,
		`cohortline_events_total{outcome="counted",partition="0"}`, `cohortline_dead_letters_total{partition="0",reason="malformed_json"}`,
		`cohortline_window_flush_seconds_count`, `cohortline_sink_retries_total`, `cohortline_worker_restarts_total{partition="0"}`,
	} {
		if !strings.Contains(metrics, name+" ") {
			t.Errorf("/metrics has no %s", name)
		}
	}
	if inserts := sample(metrics, "cohortline_sink_partials_inserts_total"); inserts < 1 {
		t.Errorf("cohortline_sink_partials_inserts_total %v, want some", inserts)
	}
	if n := sample(metrics, "cohortline_dead_letters_total"); n == 0 || n != sample(metrics, `cohortline_events_total{outcome="rejected"`) {
		t.Errorf("dead letters %v, want the rejected events, and some", n)
	}
	log := logs.String()
	for _, msg := range []string{"partition assigned", "window flushed", "dead letters written"} {
		if !strings.Contains(log, `"msg":"`+msg+`"`) {
			t.Errorf("no %q log line", msg)
		}
	}
	for what, text := range map[string]string{"/metrics": metrics, "logs": log} {
		for _, secret := range append(tokens, ids...) {
			if strings.Contains(text, secret) {
				t.Errorf("%s contain the token or event id %q", what, secret)
				break
			}
		}
	}

	stop()
	if code := <-exit; code != exitOK {
		t.Errorf("run exited %d; logs:\n%s", code, tail(logs.String(), 20))
	}
	if !strings.Contains(logs.String(), `"msg":"partition revoked"`) {
		t.Error(`no "partition revoked" log line at shutdown`)
	}
	var totals struct {
		Flushes int64 `json:"flushes_written"`
		Inserts int64 `json:"partials_inserts"`
	}
	for line := range strings.Lines(logs.String()) {
		if strings.Contains(line, `"msg":"sink totals"`) {
			if err := json.Unmarshal([]byte(line), &totals); err != nil {
				t.Fatalf("sink totals line %q: %v", line, err)
			}
		}
	}
	if totals.Flushes < 4 || totals.Inserts < 1 || totals.Inserts > totals.Flushes {
		t.Errorf("sink totals at exit %+v, want the 4 or more flushes in 1 to as many inserts", totals)
	}
	if resp, err := http.Get(base + "/healthz"); err == nil {
		resp.Body.Close()
		t.Errorf("/healthz answered %d after run returned; want the server shut down", resp.StatusCode)
	}
}

// readSecrets returns the number of records of an NDJSON file and the user
// tokens and event ids of its valid events.
func readSecrets(t *testing.T, path string) (records int, tokens, ids []string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	seen := map[string]bool{}
	var dec schemas.Decoder
	var e schemas.Event
	scanner := bufio.NewScanner(f)
	scanner.Buffer(nil, 1<<20)
	for scanner.Scan() {
		records++
		if dec.Decode(scanner.Bytes(), &e) != nil {
			continue
		}
		if u := string(e.User); !seen[u] {
			seen[u] = true
			tokens = append(tokens, u)
		}
		ids = append(ids, string(e.ID))
	}
	if err := scanner.Err(); err != nil {
		t.Fatal(err)
	}
	return records, tokens, ids
}

// sample sums the values of the exposition lines that start with prefix.
func sample(text, prefix string) float64 {
	var sum float64
	for line := range strings.Lines(text) {
		if !strings.HasPrefix(line, prefix) {
			continue
		}
		fields := strings.Fields(line)
		if v, err := strconv.ParseFloat(fields[len(fields)-1], 64); err == nil {
			sum += v
		}
	}
	return sum
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp.StatusCode, strings.TrimSpace(string(body))
}

// waitFor polls cond every 200ms until it holds; it fails the test when the
// timeout passes or run exits first.
func waitFor(t *testing.T, timeout time.Duration, exit chan int, logs *syncBuffer, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		select {
		case code := <-exit:
			exit <- code
			t.Fatalf("run exited %d while waiting for %s; logs:\n%s", code, what, tail(logs.String(), 20))
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s after %v; logs:\n%s", what, timeout, tail(logs.String(), 20))
		}
	}
}

// waitForLog waits for the JSON log line with msg and returns its string
// attribute key.
func waitForLog(t *testing.T, logs *syncBuffer, msg, key string, exit chan int) string {
	t.Helper()
	var value string
	waitFor(t, 30*time.Second, exit, logs, "log line "+msg, func() bool {
		for line := range strings.Lines(logs.String()) {
			var entry map[string]any
			if json.Unmarshal([]byte(line), &entry) == nil && entry["msg"] == msg {
				value, _ = entry[key].(string)
				return true
			}
		}
		return false
	})
	return value
}
