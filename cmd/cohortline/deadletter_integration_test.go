package main

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/cohortline/cohortline/pipeline"
	"github.com/cohortline/cohortline/schemas"
)

// TestRunDeadLetters generates a data set with 5% bad records of every
// rejection class, runs `run` (in this process) with kafka.dead_letter_topic
// set, and checks that every bad record, and nothing else, lands in that
// topic once: with its reason and position headers, its original key and
// value, or neither for pii_suspected; that the count per reason equals
// what `cohortline validate` reports on the same NDJSON; and that the good
// records give exactly the reference partials.
func TestRunDeadLetters(t *testing.T) {
	set := newFaultSet(t, "dlq", "--seed", "39", "--users", "2000", "--events", "20000", "--span", "2h",
		"--late", "0.02", "--duplicates", "0.02", "--bad", "0.05")
	dlq := set.name + "-dead"
	t.Cleanup(func() { deleteTopics(set.kafka, dlq) })

	code, out, errOut := runCLI(t, "", "validate", "--quiet", set.ndjson)
	if code != exitFailure {
		t.Fatalf("validate: exit %d, want %d: %s%s", code, exitFailure, out, errOut)
	}
	want, invalid := validateSummary(t, out)
	t.Logf("validate: %d invalid lines, %d distinct reasons", invalid, len(want))
	classes := map[string]bool{}
	for reason := range want {
		class, _, _ := strings.Cut(reason, ":")
		classes[class] = true
	}
	if len(classes) != 6 {
		t.Fatalf("the data set has bad records of %d rejection classes, want all 6: %v", len(classes), want)
	}

	ctx, stop := context.WithCancel(t.Context())
	defer stop()
	var logs lockedBuffer
	exit := startRun(ctx, set.writeConfig(t, "run.yaml", runOptions{deadLetter: dlq}), &logs)
	got, err := waitForPartials(t, set.client(t, ""), set.want, 90*time.Second, exit)
	if err != nil {
		t.Fatalf("%v\nlogs:\n%s", err, tail(logs.String(), 20))
	}
	t.Logf("%d partials equal the reference", len(got))
	// The last dead letters are written with the commit after the last
	// flush, a moment after the partials appear.
	var n int64
	if !waitUntil(30*time.Second, func() bool { n = topicSize(t, set.kafka, dlq); return n >= int64(invalid) }) {
		t.Fatalf("%d dead letters in %s after 30s, want %d", n, dlq, invalid)
	}
	stop()
	if code := <-exit; code != exitOK {
		t.Errorf("run exited %d after cancel; logs:\n%s", code, tail(logs.String(), 20))
	}

	originals := map[string]kafka.Message{}
	for p := range e2ePartitions {
		for _, m := range genReadPartition(t.Context(), t, set.kafka, set.name, p) {
			originals[fmt.Sprintf("%d/%d", p, m.Offset)] = m
		}
	}
	counts := map[string]int{}
	seen := map[string]bool{}
	for p := range partitionCount(t, set.kafka, dlq) {
		for _, m := range genReadPartition(t.Context(), t, set.kafka, dlq, p) {
			reason, pos := checkDeadLetter(t, m, set.name, originals)
			if seen[pos] {
				t.Errorf("message %s dead-lettered twice", pos)
			}
			seen[pos] = true
			counts[reason]++
		}
	}
	if !maps.Equal(counts, want) {
		t.Errorf("dead letters by reason %v, validate reports %v", counts, want)
	}
}

// checkDeadLetter checks one dead letter against the message it names and
// returns its reason and the position ("partition/offset") of the original.
func checkDeadLetter(t *testing.T, dl kafka.Message, topic string, originals map[string]kafka.Message) (reason, pos string) {
	t.Helper()
	h := map[string]string{}
	for _, kv := range dl.Headers {
		h[kv.Key] = string(kv.Value)
	}
	reason, pos = h[pipeline.HeaderReason], h[pipeline.HeaderPartition]+"/"+h[pipeline.HeaderOffset]
	if _, err := strconv.Atoi(h[pipeline.HeaderPartition]); err != nil || reason == "" || h[pipeline.HeaderTopic] != topic {
		t.Errorf("dead letter at %d/%d: headers %v, want a reason, topic %q and a partition", dl.Partition, dl.Offset, h, topic)
		return reason, pos
	}
	orig, ok := originals[pos]
	if !ok {
		t.Errorf("dead letter names %s/%s, which does not exist", topic, pos)
		return reason, pos
	}
	var ev schemas.Event
	var dec schemas.Decoder
	if r, _ := schemas.ReasonOf(dec.Decode(orig.Value, &ev)); string(r) != reason {
		t.Errorf("dead letter of %s says %q, the message decodes to %q", pos, reason, r)
	}
	if reason == string(schemas.ReasonPIISuspected) {
		if len(dl.Key) != 0 || len(dl.Value) != 0 {
			t.Errorf("pii_suspected dead letter of %s carries a %d-byte key and a %d-byte value, want neither", pos, len(dl.Key), len(dl.Value))
		}
	} else if !bytes.Equal(dl.Key, orig.Key) || !bytes.Equal(dl.Value, orig.Value) {
		t.Errorf("dead letter of %s (%s): key and value differ from the original message's", pos, reason)
	}
	return reason, pos
}

// validateSummary parses `validate --quiet` output: the count per reason
// and the number of invalid lines.
func validateSummary(t *testing.T, out string) (byReason map[string]int, invalid int) {
	t.Helper()
	byReason = map[string]int{}
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "  ") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) != 2 {
			t.Fatalf("validate printed %q, want a reason and a count", line)
		}
		n, err := strconv.Atoi(fields[1])
		if err != nil {
			t.Fatalf("validate printed %q, want a reason and a count", line)
		}
		byReason[fields[0]] = n
		invalid += n
	}
	return byReason, invalid
}

// partitionCount returns the number of partitions of topic.
func partitionCount(t *testing.T, addr, topic string) int {
	t.Helper()
	conn, err := kafka.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	parts, err := conn.ReadPartitions(topic)
	if err != nil {
		t.Fatalf("reading the partitions of %s: %v", topic, err)
	}
	return len(parts)
}

// topicSize returns the number of messages in topic (0 while it does not
// exist).
func topicSize(t *testing.T, addr, topic string) int64 {
	t.Helper()
	client := &kafka.Client{Addr: kafka.TCP(addr), Timeout: 10 * time.Second}
	meta, err := client.Metadata(t.Context(), &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil || len(meta.Topics) != 1 || meta.Topics[0].Error != nil {
		return 0
	}
	req := &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{}}
	for _, p := range meta.Topics[0].Partitions {
		req.Topics[topic] = append(req.Topics[topic], kafka.LastOffsetOf(p.ID))
	}
	resp, err := client.ListOffsets(t.Context(), req)
	if err != nil {
		return 0
	}
	var n int64
	for _, p := range resp.Topics[topic] {
		n += p.LastOffset
	}
	return n
}
