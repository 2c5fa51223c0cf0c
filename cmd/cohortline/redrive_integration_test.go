package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/cohortline/cohortline/cohorts"
	"github.com/cohortline/cohortline/deploy/devenv"
	"github.com/cohortline/cohortline/pipeline"
	"github.com/cohortline/cohortline/pipeline/redrive"
	"github.com/cohortline/cohortline/schemas"
)

// TestRedriveEndToEnd re-drives dead letters into a running stream, on the
// real Kafka broker and ClickHouse server. A generated data set of 4 hours
// (with bad records of every class) is split: the first 60% go to the
// input topic, and `run` reads them (no idle close) until hour 0 is
// flushed everywhere. Valid events held out of it, of hour 0 (closed by
// then) and of hour 3 (still to come), are dead letters bad_value:category
// (an earlier release's, whose taxonomy lacked a category), next to the
// pipeline's own, among them key_mismatch of hour-3 events a broken
// producer keyed by a device. Then: a dry run writes nothing; redrive produces exactly
// the hour-3 ones, once each, with the header, in their user's partition,
// and skips the hour-0 ones as late and every real dead letter (still
// invalid, or pii_suspected without payload); a second redrive produces
// nothing; with --key-by-user the key_mismatch ones are produced, keyed
// by their user. The rest of the data follows and `run` finishes: the partials
// equal the reference over the stream as the pipeline saw it (the copies
// between the two parts), and the reference agrees that the hour-0 ones
// would have been dropped as late. No copy comes back as a dead letter,
// and a last redrive over everything produces nothing.
func TestRedriveEndToEnd(t *testing.T) {
	s := &faultSet{kafka: devenv.Kafka(t), clickhouse: devenv.ClickHouse(t), dir: t.TempDir()}
	suffix := time.Now().UnixNano()
	s.name, s.db = fmt.Sprintf("it-redrive-%d", suffix), fmt.Sprintf("it_redrive_%d", suffix)
	s.ndjson = filepath.Join(s.dir, "events.ndjson")
	dlq := s.name + ".dlq"
	t.Cleanup(func() { deleteTopics(s.kafka, s.name, dlq) })
	t.Cleanup(func() { dropDatabases(t, s.clickhouse, s.db, s.db+"_published") })
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	if code, _, errOut := runCLI(t, "", "gen", "--seed", "41", "--users", "400", "--events", "8000", "--span", "4h",
		"--start", start.Format(time.RFC3339), "--bad", "0.03", "--late", "0.01", "--duplicates", "0.01", "--out", s.ndjson); code != exitOK {
		t.Fatalf("gen: exit %d: %s", code, errOut)
	}
	var first, rest, heldLate, heldOn, misKeyed [][]byte
	lines := readLines(t, s.ndjson)
	cut := len(lines) * 3 / 5
	for i, line := range lines {
		hour, valid := eventHour(line, start)
		switch {
		case valid && i < cut && hour == 0 && i%5 == 0:
			heldLate = append(heldLate, line)
		case valid && i >= cut && hour == 3 && i%5 == 0:
			heldOn = append(heldOn, line)
		case valid && i >= cut && hour == 3 && i%5 == 1:
			misKeyed = append(misKeyed, line)
		case i < cut:
			first = append(first, line)
		default:
			rest = append(rest, line)
		}
	}
	t.Logf("%d lines: %d then %d in the topic, %d (hour 0) and %d (hour 3) held out as dead letters, %d (hour 3) mis-keyed first",
		len(lines), len(first), len(rest), len(heldLate), len(heldOn), len(misKeyed))
	produceLines(t, s.kafka, s.name, misKeyed, true) // dead-lettered: they move no watermark
	produceLines(t, s.kafka, s.name, first, false)

	// Part one, without idle closes: hour 0 flushed in every partition.
	reading := s.writeConfig(t, "reading.yaml", runOptions{idleTimeout: 10 * time.Minute})
	config := s.writeConfig(t, "run.yaml", runOptions{})
	ctx, stop := context.WithCancel(t.Context())
	var logs lockedBuffer
	exit := startRun(ctx, reading, &logs)
	hour0Closed := start.Add(time.Hour + e2eLateness).UnixMilli()
	client := s.client(t, "")
	if !waitUntil(90*time.Second, func() bool {
		for p := range e2ePartitions {
			f, ok, err := client.Writer().LastFlush(t.Context(), s.name, p)
			if err != nil || !ok || f.Watermark < hour0Closed {
				return false
			}
		}
		return true
	}) {
		t.Fatalf("hour 0 not flushed in every partition after 90s; logs:\n%s", tail(logs.String(), 20))
	}
	stop()
	if code := <-exit; code != exitOK {
		t.Fatalf("run exited %d; logs:\n%s", code, tail(logs.String(), 20))
	}
	writeHeldDeadLetters(t, s.kafka, dlq, s.name+"-v0", append(append([][]byte(nil), heldLate...), heldOn...))
	inputSize := topicSize(t, s.kafka, s.name)

	out := redriveCLI(t, "--config", config, "--dry-run")
	if n := reportCount(t, out, `would produce (\S+) to`); n != len(heldOn) || topicSize(t, s.kafka, s.name) != inputSize {
		t.Fatalf("dry run: would produce %d, want %d; the input topic went from %d to %d messages", n, len(heldOn), inputSize, topicSize(t, s.kafka, s.name))
	}
	out = redriveCLI(t, "--config", config)
	read := reportCount(t, out, `read (\S+) dead letters`)
	stillInvalid, noPayload := reportCount(t, out, `skipped (\S+) still invalid`), reportCount(t, out, `skipped (\S+) pii_suspected`)
	if n := reportCount(t, out, `produced (\S+) to`); n != len(heldOn) {
		t.Errorf("produced %d, want the %d of hour 3", n, len(heldOn))
	}
	if n := reportCount(t, out, `skipped (\S+) late`); n != len(heldLate) {
		t.Errorf("skipped %d as late, want the %d of hour 0", n, len(heldLate))
	}
	if real := read - len(heldLate) - len(heldOn); stillInvalid+noPayload != real || noPayload == 0 {
		t.Errorf("of the pipeline's %d dead letters, %d skipped as still invalid and %d without payload: want all, some of them pii_suspected", real, stillInvalid, noPayload)
	}
	checkRedriven(t, s.kafka, s.name, dlq, heldOn)
	out = redriveCLI(t, "--config", config)
	if n, again := reportCount(t, out, `produced (\S+) to`), reportCount(t, out, `skipped (\S+) already re-driven`); n != 0 || again != len(heldOn) {
		t.Errorf("second redrive: produced %d, skipped %d as already re-driven; want 0 and %d", n, again, len(heldOn))
	}
	// The mis-keying producer is fixed: its dead letters, keyed by the token.
	out = redriveCLI(t, "--config", config, "--reason", "key_mismatch", "--key-by-user")
	if n := reportCount(t, out, `produced (\S+) to`); n != len(misKeyed) {
		t.Errorf("key_mismatch keyed by user: produced %d, want %d", n, len(misKeyed))
	}
	copies, copyAt := checkRedriven(t, s.kafka, s.name, dlq, append(append([][]byte(nil), heldOn...), misKeyed...))

	// Part two: the rest, then the idle close.
	produceLines(t, s.kafka, s.name, rest, false)
	ctx, stop = context.WithCancel(t.Context())
	defer stop()
	exit = startRun(ctx, config, &logs)
	seen := append(append(append([][]byte(nil), first...), copies...), rest...)
	want := streamingReference(t, joinLines(t, s.dir, "seen.ndjson", seen), mustSpec(t, config))
	withLate := append(append(append(append([][]byte(nil), first...), copies...), heldLate...), rest...)
	if late := streamingReference(t, joinLines(t, s.dir, "late.ndjson", withLate), mustSpec(t, config)); diffPartials(late, want) != "" {
		t.Errorf("the events skipped as late would have counted:\n%s", diffPartials(late, want))
	}
	if _, err := waitForPartials(t, client, want, 120*time.Second, exit); err != nil {
		t.Fatalf("%v\nlogs:\n%s", err, tail(logs.String(), 20))
	}
	invalid := 0
	for _, line := range lines {
		if _, valid := eventHour(line, start); !valid {
			invalid++
		}
	}
	// The last dead letters are written with the commit after the last
	// flush; run's restart dead-lettered again what followed its last
	// commit (at least once, by design): count the originals.
	var origins map[string]bool
	wantOrigins := invalid + len(misKeyed)
	if !waitUntil(30*time.Second, func() bool { origins = deadLetterOrigins(t, s.kafka, dlq, s.name); return len(origins) >= wantOrigins }) || len(origins) != wantOrigins {
		t.Errorf("dead letters of %d messages of the input topic, want the %d invalid lines and %d mis-keyed", len(origins), invalid, len(misKeyed))
	}
	for pos := range copyAt {
		if origins[pos] {
			t.Errorf("the copy at %s was dead-lettered", pos)
		}
	}
	stop()
	if code := <-exit; code != exitOK {
		t.Errorf("run exited %d; logs:\n%s", code, tail(logs.String(), 20))
	}
	out = redriveCLI(t, "--config", config)
	if n := reportCount(t, out, `produced (\S+) to`); n != 0 {
		t.Errorf("redrive over everything after the run: produced %d, want 0", n)
	}
}

// redriveCLI runs `cohortline redrive args...`, which must succeed, and
// returns its output.
func redriveCLI(t *testing.T, args ...string) string {
	t.Helper()
	began := time.Now()
	code, out, errOut := runCLI(t, "", append([]string{"redrive"}, args...)...)
	if code != exitOK {
		t.Fatalf("redrive %v: exit %d: %s%s", args, code, out, errOut)
	}
	t.Logf("redrive %v (%v):\n%s", args[2:], time.Since(began).Round(time.Millisecond), out)
	return out
}

// reportCount reads the number that pattern's group matches in redrive's
// output (1,234 included).
func reportCount(t *testing.T, out, pattern string) int {
	t.Helper()
	m := regexp.MustCompile(pattern).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("redrive's output lacks %q:\n%s", pattern, out)
	}
	n, err := strconv.Atoi(strings.ReplaceAll(m[1], ",", ""))
	if err != nil {
		t.Fatalf("redrive's output: %q is not a count", m[1])
	}
	return n
}

// eventHour decodes line: valid, and its event's hour since start.
func eventHour(line []byte, start time.Time) (int, bool) {
	var dec schemas.Decoder
	var ev schemas.Event
	if dec.Decode(line, &ev) != nil {
		return 0, false
	}
	return int(time.UnixMilli(ev.TS).Sub(start) / time.Hour), true
}

// eventUser decodes line: its user token, and whether it is valid.
func eventUser(line []byte) (string, bool) {
	var dec schemas.Decoder
	var ev schemas.Event
	if dec.Decode(line, &ev) != nil {
		return "", false
	}
	return string(ev.User), true
}

// produceLines produces NDJSON lines as gen does: keyed by the user token
// (murmur2), the event time as timestamp; an invalid line by its "user"
// field if it can be found. misKey keys valid lines by a device id
// instead, as a broken producer.
func produceLines(t *testing.T, addr, topic string, lines [][]byte, misKey bool) {
	t.Helper()
	user := regexp.MustCompile(`"user":"([^"]*)"`)
	i := 0
	err := pipeline.Produce(t.Context(), nil, addr, topic, e2ePartitions, func() (pipeline.Record, bool) {
		if i == len(lines) {
			return pipeline.Record{}, false
		}
		line := lines[i]
		i++
		var dec schemas.Decoder
		var ev schemas.Event
		if dec.Decode(line, &ev) == nil {
			key := bytes.Clone(ev.User)
			if misKey {
				key = fmt.Appendf(nil, "device-%d", i)
			}
			return pipeline.Record{Key: key, Value: line, Time: time.UnixMilli(ev.TS)}, true
		}
		var key []byte
		if m := user.FindSubmatch(line); m != nil {
			key = m[1]
		}
		return pipeline.Record{Key: key, Value: line, Time: time.Now()}, true
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
}

// writeHeldDeadLetters writes valid events as dead letters bad_value:category,
// as a release before this one wrote them, its input topic origin.
func writeHeldDeadLetters(t *testing.T, addr, dlq, origin string, lines [][]byte) {
	t.Helper()
	w := &kafka.Writer{Addr: kafka.TCP(addr), Topic: dlq, Balancer: kafka.Murmur2Balancer{}, RequiredAcks: kafka.RequireAll}
	defer w.Close()
	msgs := make([]kafka.Message, len(lines))
	for i, line := range lines {
		var dec schemas.Decoder
		var ev schemas.Event
		if err := dec.Decode(line, &ev); err != nil {
			t.Fatal(err)
		}
		msgs[i] = kafka.Message{Key: bytes.Clone(ev.User), Value: line, Headers: []kafka.Header{
			{Key: pipeline.HeaderReason, Value: []byte(schemas.BadValue("category"))},
			{Key: pipeline.HeaderTopic, Value: []byte(origin)},
			{Key: pipeline.HeaderPartition, Value: []byte("0")},
			{Key: pipeline.HeaderOffset, Value: []byte(strconv.Itoa(i))},
		}}
	}
	if err := w.WriteMessages(t.Context(), msgs...); err != nil {
		t.Fatal(err)
	}
}

// checkRedriven checks that the input topic holds one copy of each line of
// want, with the header naming a dead letter, keyed by its user and in
// that user's partition, and
// returns the copies in partition and offset order, and their positions
// ("partition/offset").
func checkRedriven(t *testing.T, addr, topic, dlq string, want [][]byte) ([][]byte, map[string]bool) {
	t.Helper()
	left := map[string]int{}
	for _, line := range want {
		left[string(line)]++
	}
	var copies [][]byte
	at := map[string]bool{}
	for p := range e2ePartitions {
		for _, m := range genReadPartition(t.Context(), t, addr, topic, p) {
			var from string
			for _, h := range m.Headers {
				if h.Key == redrive.HeaderRedrivenFrom {
					from = string(h.Value)
				}
			}
			if from == "" {
				continue
			}
			copies = append(copies, m.Value)
			at[fmt.Sprintf("%d/%d", p, m.Offset)] = true
			if left[string(m.Value)]--; left[string(m.Value)] < 0 {
				t.Errorf("copy at %d/%d (from %s): not one of the hour-3 events, or twice", p, m.Offset, from)
			}
			if !strings.HasPrefix(from, dlq+"/") {
				t.Errorf("copy at %d/%d names %q, not a dead letter of %s", p, m.Offset, from, dlq)
			}
			user, _ := eventUser(m.Value)
			if want := (kafka.Murmur2Balancer{}).Balance(kafka.Message{Key: m.Key}, 0, 1, 2, 3); want != p || string(m.Key) != user {
				t.Errorf("copy at %d/%d: key %q, want its user %q, in partition %d", p, m.Offset, m.Key, user, want)
			}
		}
	}
	if len(copies) != len(want) {
		t.Errorf("%d copies on the input topic, want %d", len(copies), len(want))
	}
	return copies, at
}

// deadLetterOrigins returns the positions ("partition/offset") of the
// messages of topic that dlq holds dead letters of.
func deadLetterOrigins(t *testing.T, addr, dlq, topic string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for p := range partitionCount(t, addr, dlq) {
		for _, m := range genReadPartition(t.Context(), t, addr, dlq, p) {
			h := map[string]string{}
			for _, kv := range m.Headers {
				h[kv.Key] = string(kv.Value)
			}
			if h[pipeline.HeaderTopic] == topic {
				out[h[pipeline.HeaderPartition]+"/"+h[pipeline.HeaderOffset]] = true
			}
		}
	}
	return out
}

func readLines(t *testing.T, path string) [][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out [][]byte
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		out = append(out, bytes.Clone(sc.Bytes()))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// joinLines writes lines into dir/name as NDJSON and returns its path.
func joinLines(t *testing.T, dir, name string, lines [][]byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	writeTestFile(t, path, string(bytes.Join(lines, []byte("\n")))+"\n")
	return path
}

func mustSpec(t *testing.T, config string) cohorts.Spec {
	t.Helper()
	cfg, err := loadConfig(config, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Spec
}
