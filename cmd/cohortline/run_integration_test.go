package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/cohortline/cohortline/cohorts"
	"github.com/cohortline/cohortline/cohorts/cohortstest"
	"github.com/cohortline/cohortline/schemas"
	"github.com/cohortline/cohortline/sinks/clickhouse"
)

// The streaming settings of the end-to-end test, shared by the config file
// given to `run` and by the reference computation.
const (
	e2ePartitions    = 4
	e2eMaxOutOfOrder = 10 * time.Second
	e2eLateness      = 5 * time.Minute
	e2eBoundEvents   = 20
	e2eBoundCallSecs = 600
)

// TestRunEndToEnd generates a data set with late, out-of-order, duplicate and
// bad records into a real Kafka topic, runs the pipeline (`run`) into a real
// ClickHouse until every window is flushed, and compares every partial (users,
// events, each reach and sum slot, per cohort and window) with an independent
// reference computed in this test over the same NDJSON: exact equality.
func TestRunEndToEnd(t *testing.T) {
	s := newFaultSet(t, "run", "--seed", "21", "--users", "3000", "--events", "60000", "--span", "4h",
		"--late", "0.02", "--duplicates", "0.02", "--bad", "0.01", "--drift-share", "0.2")
	config := s.writeConfig(t, "cohortline.yaml", runOptions{})
	ctx, stop := context.WithCancel(t.Context())
	var logs lockedBuffer
	exit := startRun(ctx, config, &logs)

	got, err := waitForPartials(t, s.client(t, ""), s.want, 120*time.Second, exit)
	stop()
	if code := <-exit; code != exitOK {
		t.Errorf("run exited %d after SIGTERM-like cancel; logs:\n%s", code, logs.String())
	}
	if err != nil {
		t.Fatalf("%v\nlogs:\n%s", err, tail(logs.String(), 20))
	}
	if diff := diffPartials(got, s.want); diff != "" {
		t.Fatalf("partials in ClickHouse differ from the reference:\n%s", diff)
	}
	t.Logf("%d partials in ClickHouse equal the reference", len(got))
}

// partialText renders one cohort's partial of one window for comparison.
func partialText(window time.Time, key string, users, events uint64, values map[string]uint64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s users=%d events=%d", window.UTC().Format(time.RFC3339), key, users, events)
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for k := range values {
			if !yield(k) {
				return
			}
		}
	}) {
		if values[name] != 0 {
			fmt.Fprintf(&b, " %s=%d", name, values[name])
		}
	}
	return b.String()
}

// e2eWatermarkUsers is kafka.watermark_users of the end-to-end configs:
// the default.
const e2eWatermarkUsers = 3

// streamingReference restates the pipeline's per-partition rules as plainly
// as possible over the NDJSON file: Java's murmur2 partitioning of the user
// token, then per partition cohortstest.Partition (the watermark quorum,
// late events, the aggregation), every window closed in the end (the idle
// timeout).
func streamingReference(t *testing.T, ndjson string, spec cohorts.Spec) []string {
	t.Helper()
	return streamingReferenceOf(t, ndjson, spec, e2ePartitions)
}

// streamingReferenceOf is streamingReference for a topic of n partitions.
func streamingReferenceOf(t *testing.T, ndjson string, spec cohorts.Spec, n int) []string {
	t.Helper()
	f, err := os.Open(ndjson)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dims := make([]string, len(spec.Dimensions))
	for i, d := range spec.Dimensions {
		dims[i] = string(d)
	}
	params := cohortstest.Params{Dimensions: dims, Window: spec.Window, BoundEvents: spec.Bounds.Events, BoundCallSeconds: spec.Bounds.CallSeconds}
	parts := make([]*cohortstest.Partition, n)
	partitions := make([]int, n)
	for i := range parts {
		parts[i] = cohortstest.NewPartition(params, e2eWatermarkUsers, e2eMaxOutOfOrder, e2eLateness)
		partitions[i] = i
	}
	var dec schemas.Decoder
	scanner := bufio.NewScanner(f)
	scanner.Buffer(nil, 1<<20)
	for scanner.Scan() {
		var e schemas.Event
		if dec.Decode(scanner.Bytes(), &e) != nil {
			continue // dead-lettered
		}
		p := parts[kafka.Murmur2Balancer{}.Balance(kafka.Message{Key: e.User}, partitions...)]
		ev := cohortstest.Event{User: string(e.User), ID: string(e.ID), E: e}
		ev.E.User, ev.E.ID = nil, nil // they alias the decoder's buffers
		p.Add(ev)
	}
	if err := scanner.Err(); err != nil {
		t.Fatal(err)
	}
	// ClickHouse's current partials are summed over partitions; a user is
	// in one partition, so the sums are the whole topic's cohorts.
	type cohortOf struct {
		start int64
		key   string
	}
	sums := map[cohortOf]*cohortstest.Cohort{}
	for _, p := range parts {
		for start, byKey := range p.Result() {
			for key, c := range byKey {
				sum := sums[cohortOf{start, key}]
				if sum == nil {
					sum = &cohortstest.Cohort{Values: map[string]uint64{}}
					sums[cohortOf{start, key}] = sum
				}
				sum.Users += c.Users
				sum.Events += c.Events
				for name, v := range c.Values {
					sum.Values[name] += v
				}
			}
		}
	}
	var out []string
	for k, c := range sums {
		out = append(out, partialText(time.UnixMilli(k.start), k.key, c.Users, c.Events, c.Values))
	}
	slices.Sort(out)
	return out
}

// waitForPartials polls ClickHouse until what readers see equals want, the
// deadline passes or run exits early.
func waitForPartials(t *testing.T, client *clickhouse.Client, want []string, timeout time.Duration, exit chan int) ([]string, error) {
	t.Helper()
	dictionary := cohorts.PartialFeatures()
	deadline := time.Now().Add(timeout)
	var got []string
	var lastErr error
	for time.Now().Before(deadline) {
		// Until run has migrated, the tables do not exist: keep polling.
		// One poll is bounded: a read stuck on a server that is starting
		// again must not use up the whole wait.
		poll, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		rows, err := client.CurrentPartials(poll, time.Unix(0, 0), time.Now().Add(24*time.Hour*365*10))
		cancel()
		lastErr = err
		got = got[:0]
		for _, r := range rows {
			values := map[string]uint64{}
			for i, v := range r.Values {
				values[dictionary[i].Name] = v
			}
			got = append(got, partialText(r.WindowStart, r.CohortKey, r.Users, r.Events, values))
		}
		slices.Sort(got)
		if slices.Equal(got, want) {
			return got, nil
		}
		select {
		case code := <-exit:
			exit <- code
			return got, fmt.Errorf("run exited %d before every window was flushed", code)
		case <-time.After(500 * time.Millisecond):
		}
	}
	return got, fmt.Errorf("after %v ClickHouse has %d partials (last error: %v), the reference %d:\n%s", timeout, len(got), lastErr, len(want), diffPartials(got, want))
}

// diffPartials lists the partials only one side has, at most 20 of each.
func diffPartials(got, want []string) string {
	var b strings.Builder
	onlyIn := func(label string, a, other []string) {
		n := 0
		for _, s := range a {
			if _, found := slices.BinarySearch(other, s); !found && n < 20 {
				fmt.Fprintf(&b, "%s %s\n", label, s)
				n++
			}
		}
	}
	onlyIn("clickhouse only:", got, want)
	onlyIn("reference only: ", want, got)
	return b.String()
}

func writeTestFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func deleteTopics(addr string, topics ...string) {
	client := &kafka.Client{Addr: kafka.TCP(addr), Timeout: 10 * time.Second}
	client.DeleteTopics(context.Background(), &kafka.DeleteTopicsRequest{Topics: topics})
}

func tail(s string, lines int) string {
	all := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(all[max(0, len(all)-lines):], "\n")
}
