package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/cohortline/cohortline/deploy/devenv"
	"github.com/cohortline/cohortline/schemas"
	"github.com/cohortline/cohortline/schemas/synth"
)

// gen --kafka creates the topic, produces every record (bad ones too) keyed
// by user token, and the same key always lands on the same partition: the
// one Java's murmur2 partitioner picks.
func TestGenKafka(t *testing.T) {
	addr := devenv.Kafka(t)
	const events, partitions = 20000, 8
	topic := fmt.Sprintf("cohortline-gen-test-%d", time.Now().UnixNano())
	args := []string{"--events", "20000", "--users", "3000", "--seed", "5", "--bad", "0.01",
		"--kafka", addr, "--topic", topic, "--partitions", "8"}
	if _, stderr, err := execGen(t, args...); err != nil {
		t.Fatalf("gen %v: %v\n%s", args, err, stderr)
	}
	t.Cleanup(func() { genDeleteTopic(addr, topic) })

	// What the generator sent, per key, in order.
	cfg := synth.DefaultConfig()
	cfg.Events, cfg.Users, cfg.Seed, cfg.Bad = events, 3000, 5, 0.01
	g, err := synth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{}
	for {
		rec, ok := g.Next()
		if !ok {
			break
		}
		want[string(rec.Key)] = append(want[string(rec.Key)], string(rec.Line))
	}

	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	got := map[string][]string{}
	partitionOf := map[string]int{}
	total := 0
	var d schemas.Decoder
	var ev schemas.Event
	for p := range partitions {
		for _, m := range genReadPartition(ctx, t, addr, topic, p) {
			total++
			key := string(m.Key)
			if q, seen := partitionOf[key]; seen && q != p {
				t.Fatalf("key %q on partitions %d and %d", key, q, p)
			}
			partitionOf[key] = p
			if java := (kafka.Murmur2Balancer{}).Balance(m, genPartitionList(partitions)...); java != p {
				t.Fatalf("key %q on partition %d, murmur2 says %d", key, p, java)
			}
			if d.Decode(m.Value, &ev) == nil && string(ev.User) != key {
				t.Fatalf("message key %q, event user %q", key, ev.User)
			}
			got[key] = append(got[key], string(m.Value))
		}
	}
	if total != events {
		t.Fatalf("consumed %d messages, want %d", total, events)
	}
	if len(got) != len(want) {
		t.Fatalf("consumed %d distinct keys, generator used %d", len(got), len(want))
	}
	for key, lines := range want {
		if fmt.Sprint(got[key]) != fmt.Sprint(lines) {
			t.Fatalf("key %q: consumed %d messages, want the generator's %d in order", key, len(got[key]), len(lines))
		}
	}
	if len(partitionOf) < partitions {
		t.Logf("keys used only %d partitions", len(partitionOf))
	}
}

func genPartitionList(n int) []int {
	ps := make([]int, n)
	for i := range ps {
		ps[i] = i
	}
	return ps
}

// genReadPartition reads partition p from the start to its current end.
func genReadPartition(ctx context.Context, t *testing.T, addr, topic string, p int) []kafka.Message {
	t.Helper()
	conn, err := kafka.DialLeader(ctx, "tcp", addr, topic, p)
	if err != nil {
		t.Fatalf("dialing leader of %s/%d: %v", topic, p, err)
	}
	last, err := conn.ReadLastOffset()
	conn.Close()
	if err != nil {
		t.Fatalf("reading end offset of %s/%d: %v", topic, p, err)
	}
	// A short MaxWait: Close waits for the fetch in flight at the end of
	// the partition, 10s by default.
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{addr}, Topic: topic, Partition: p,
		MaxBytes: 10 << 20, MaxWait: 200 * time.Millisecond})
	defer r.Close()
	var msgs []kafka.Message
	for int64(len(msgs)) < last {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			t.Fatalf("reading %s/%d after %d of %d messages: %v", topic, p, len(msgs), last, err)
		}
		msgs = append(msgs, m)
	}
	return msgs
}

// genDeleteTopic removes a test topic; a failure only leaves it behind.
func genDeleteTopic(addr, topic string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client := &kafka.Client{Addr: kafka.TCP(addr)}
	_, _ = client.DeleteTopics(ctx, &kafka.DeleteTopicsRequest{Topics: []string{topic}})
}
