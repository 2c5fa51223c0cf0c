package pipeline

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/cohortline/cohortline/deploy/devenv"
)

// TestRealBroker proves that integration tests talk to a real Apache Kafka
// broker in KRaft mode (not an in-process fake): its cluster metadata, API
// versions and broker configuration, then a keyed produce and consume round
// trip with kafka-go.
func TestRealBroker(t *testing.T) {
	addr := devenv.Kafka(t)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	client := &kafka.Client{Addr: kafka.TCP(addr), Timeout: 10 * time.Second}

	meta, err := client.Metadata(ctx, &kafka.MetadataRequest{})
	if err != nil {
		t.Fatalf("metadata from %s: %v", addr, err)
	}
	if meta.ClusterID == "" || len(meta.Brokers) != 1 || meta.Brokers[0].Host != "127.0.0.1" {
		t.Fatalf("want a single-node cluster on 127.0.0.1 with a cluster id, got id %q brokers %+v", meta.ClusterID, meta.Brokers)
	}

	versions, err := client.ApiVersions(ctx, &kafka.ApiVersionsRequest{})
	if err != nil {
		t.Fatalf("api versions: %v", err)
	}
	maxVersion := map[int]int{}
	for _, v := range versions.ApiKeys {
		maxVersion[v.ApiKey] = v.MaxVersion
	}
	// Produce (0) v9+ and Fetch (1) v12+ exist from Kafka 2.4 on; the
	// KRaft-only APIs (DescribeQuorum 55) prove a KRaft controller answers.
	for _, want := range []struct{ key, min int }{{0, 9}, {1, 12}, {55, 0}} {
		if v, ok := maxVersion[want.key]; !ok || v < want.min {
			t.Errorf("api key %d: max version %d (present %v), want >= %d", want.key, v, ok, want.min)
		}
	}

	broker := strconv.Itoa(meta.Brokers[0].ID)
	configs, err := client.DescribeConfigs(ctx, &kafka.DescribeConfigsRequest{Resources: []kafka.DescribeConfigRequestResource{{
		ResourceType: kafka.ResourceTypeBroker, ResourceName: broker, ConfigNames: []string{"process.roles"},
	}}})
	if err != nil {
		t.Fatalf("describe configs of broker %s: %v", broker, err)
	}
	if got := brokerConfig(configs, "process.roles"); got != "broker,controller" {
		t.Errorf("process.roles = %q, want the combined KRaft node deploy/dev/up configures (broker,controller)", got)
	}

	produceAndConsume(t, ctx, client, addr)
}

func brokerConfig(resp *kafka.DescribeConfigsResponse, name string) string {
	for _, r := range resp.Resources {
		for _, e := range r.ConfigEntries {
			if e.ConfigName == name {
				return e.ConfigValue
			}
		}
	}
	return ""
}

// produceAndConsume writes keyed messages to a fresh three-partition topic
// and reads every partition back: same count, same values, and each key in
// one partition only (what the pipeline's per-partition state relies on).
func produceAndConsume(t *testing.T, ctx context.Context, client *kafka.Client, addr string) {
	topic := fmt.Sprintf("it-broker-%d", time.Now().UnixNano())
	created, err := client.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{{
		Topic: topic, NumPartitions: 3, ReplicationFactor: 1,
	}}})
	if err != nil {
		t.Fatalf("creating topic %s: %v", topic, err)
	}
	if err := created.Errors[topic]; err != nil {
		t.Fatalf("creating topic %s: %v", topic, err)
	}
	t.Cleanup(func() {
		client.DeleteTopics(context.WithoutCancel(ctx), &kafka.DeleteTopicsRequest{Topics: []string{topic}})
	})

	const users, perUser = 50, 20
	w := &kafka.Writer{Addr: kafka.TCP(addr), Topic: topic, Balancer: kafka.Murmur2Balancer{}, BatchSize: 500, BatchTimeout: 10 * time.Millisecond,
		// kafka-go's Writer does not wait for the broker by default (acks=0):
		// WriteMessages would return before the messages are in the log.
		RequiredAcks: kafka.RequireAll}
	var msgs []kafka.Message
	for i := range users * perUser {
		key := fmt.Sprintf("user-%02d", i%users)
		msgs = append(msgs, kafka.Message{Key: []byte(key), Value: []byte(strconv.Itoa(i))})
	}
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatalf("producing %d messages: %v", len(msgs), err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("closing writer: %v", err)
	}

	ends := endOffsets(t, ctx, client, topic, 3)
	var total int64
	for _, end := range ends {
		total += end
	}
	if total != int64(len(msgs)) {
		t.Fatalf("end offsets %v add up to %d, produced %d", ends, total, len(msgs))
	}

	seen := map[string]bool{}
	partitionOf := map[string]int{}
	for p, last := range ends {
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{addr}, Topic: topic, Partition: p, MaxWait: 100 * time.Millisecond})
		for off := int64(0); off < last; off++ {
			m, err := r.ReadMessage(ctx)
			if err != nil {
				t.Fatalf("reading partition %d offset %d: %v", p, off, err)
			}
			if prev, ok := partitionOf[string(m.Key)]; ok && prev != p {
				t.Errorf("key %s in partitions %d and %d", m.Key, prev, p)
			}
			partitionOf[string(m.Key)] = p
			seen[string(m.Value)] = true
		}
		r.Close()
	}
	if len(seen) != len(msgs) {
		t.Fatalf("consumed %d distinct messages, produced %d", len(seen), len(msgs))
	}
}

// endOffsets lists the end offset of each partition of a topic. A partition
// that answers with an error (a topic this young may not have its leader in
// every metadata cache yet) comes with offset 0, which would silently read
// nothing, so it is asked again until it answers or ctx ends.
func endOffsets(t *testing.T, ctx context.Context, client *kafka.Client, topic string, partitions int) []int64 {
	t.Helper()
	ends := make([]int64, partitions)
	for p := range partitions {
		for {
			resp, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: {kafka.LastOffsetOf(p)}}})
			if err == nil && len(resp.Topics[topic]) == 1 {
				if got := resp.Topics[topic][0]; got.Error == nil {
					ends[p] = got.LastOffset
					break
				} else {
					err = got.Error
				}
			} else if err == nil {
				err = fmt.Errorf("%d partitions in the answer, want 1", len(resp.Topics[topic]))
			}
			select {
			case <-ctx.Done():
				t.Fatalf("listing end offset of partition %d: %v (last error: %v)", p, ctx.Err(), err)
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	return ends
}
