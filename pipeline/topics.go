package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/segmentio/kafka-go"
)

// Kafka administration, in one place: partition counts, offsets and topic
// creation for the consumer (its dead-letter topic), backfill, redrive, gen
// and the demo.

// adminTimeout bounds each administrative request.
const adminTimeout = 10 * time.Second

func adminClient(d *Dialer, brokers ...string) *kafka.Client {
	return &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: adminTimeout, Transport: d.Transport()}
}

// PartitionCount returns how many partitions topic has.
func PartitionCount(ctx context.Context, d *Dialer, brokers []string, topic string) (int, error) {
	meta, err := adminClient(d, brokers...).Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return 0, fmt.Errorf("reading metadata of %q from Kafka at %v (%s): %w", topic, brokers, d, err)
	}
	for _, t := range meta.Topics {
		if t.Name == topic && t.Error == nil && len(t.Partitions) > 0 {
			return len(t.Partitions), nil
		}
	}
	return 0, fmt.Errorf("topic %q not found on %v", topic, brokers)
}

// ensureDeadLetterTopic creates the dead-letter topic when it is missing,
// with as many partitions as the input topic (a re-drive keyed by the
// original key then lands as the original did) and the broker's default
// replication factor. kafka-go's automatic topic creation is not enough:
// the first write to a topic being created fails with "Unknown Topic Or
// Partition", which would fail every worker that meets a bad message first.
func ensureDeadLetterTopic(ctx context.Context, d *Dialer, brokers []string, input, dead string) error {
	client := adminClient(d, brokers...)
	meta, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{input, dead}})
	if err != nil {
		return fmt.Errorf("reading metadata of %q and %q from Kafka at %v (%s): %w", input, dead, brokers, d, err)
	}
	partitions := 0
	for _, t := range meta.Topics {
		switch {
		case t.Name == dead && t.Error == nil:
			return nil // exists
		case t.Name == input && t.Error == nil:
			partitions = len(t.Partitions)
		}
	}
	if partitions == 0 {
		return fmt.Errorf("input topic %q not found on %v", input, brokers)
	}
	err = createTopic(ctx, client, kafka.TopicConfig{Topic: dead, NumPartitions: partitions, ReplicationFactor: -1})
	if err != nil {
		return fmt.Errorf("creating dead-letter topic %q: %w", dead, err)
	}
	return nil
}

// EnsureTopic creates topic with partitions partitions (and the broker's
// default replication factor) unless it exists, then waits until the
// broker reports its partitions (a Writer that starts earlier gets
// UNKNOWN_TOPIC_OR_PARTITION).
func EnsureTopic(ctx context.Context, d *Dialer, addr, topic string, partitions int) error {
	client := adminClient(d, addr)
	if err := createTopic(ctx, client, kafka.TopicConfig{Topic: topic, NumPartitions: partitions, ReplicationFactor: -1}); err != nil { // the broker's default.replication.factor
		return fmt.Errorf("creating topic %q at %s (%s): %w", topic, addr, d, err)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		md, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
		if err == nil && len(md.Topics) == 1 && md.Topics[0].Error == nil && len(md.Topics[0].Partitions) > 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for topic %q at %s: %w (last metadata error: %v)", topic, addr, ctx.Err(), err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// ListOffsets asks for one offset of each of topic's n partitions: req(p)
// (kafka.FirstOffsetOf, LastOffsetOf, TimeOffsetOf). A time request whose
// answer is "no such message" comes back as -1.
func ListOffsets(ctx context.Context, d *Dialer, brokers []string, topic string, n int, req func(int) kafka.OffsetRequest) ([]int64, error) {
	reqs := make([]kafka.OffsetRequest, n)
	for p := range n {
		reqs[p] = req(p)
	}
	resp, err := adminClient(d, brokers...).ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: reqs}})
	if err != nil {
		return nil, fmt.Errorf("listing offsets of topic %q: %w", topic, err)
	}
	out := slices.Repeat([]int64{-1}, n)
	got := 0
	for _, po := range resp.Topics[topic] {
		if po.Error != nil {
			return nil, fmt.Errorf("listing offsets of topic %q partition %d: %w", topic, po.Partition, po.Error)
		}
		if po.Partition < 0 || po.Partition >= n {
			continue
		}
		got++
		switch r := reqs[po.Partition].Timestamp; r {
		case kafka.FirstOffset:
			out[po.Partition] = po.FirstOffset
		case kafka.LastOffset:
			out[po.Partition] = po.LastOffset
		default:
			for off := range po.Offsets { // one entry: the offset found
				out[po.Partition] = off
			}
		}
	}
	if got != n {
		return nil, fmt.Errorf("listing offsets of topic %q: %d of %d partitions answered", topic, got, n)
	}
	return out, nil
}

// CheckBroker dials the broker once, TLS and SASL included: kafka-go's
// client reports a broker it cannot reach as "Broker Not Available",
// which hides the reason (a refused certificate or password among them).
func CheckBroker(ctx context.Context, d *Dialer, addr string) error {
	conn, err := d.KafkaDialer().DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("Kafka broker at %s is not answering: %w (connecting with %s)", addr, err, d)
	}
	// A plaintext client on a TLS listener connects: only a request
	// shows that nothing sensible answers.
	conn.SetDeadline(time.Now().Add(adminTimeout))
	if _, err := conn.ApiVersions(); err != nil {
		conn.Close()
		hint := ""
		if d.tlsConfig() == nil && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)) {
			hint = "; a TLS listener hangs up on a plaintext client so: does it need kafka.tls?"
		}
		return fmt.Errorf("Kafka broker at %s is not answering a request: %w (connecting with %s%s)", addr, err, d, hint)
	}
	return conn.Close()
}

// DeleteTopics deletes topics at addr as well as it can: it is for
// cleaning up (the demo's topics on a real broker), where a failure is no
// reason to fail.
func DeleteTopics(ctx context.Context, d *Dialer, addr string, topics ...string) {
	adminClient(d, addr).DeleteTopics(ctx, &kafka.DeleteTopicsRequest{Topics: topics})
}

// createTopic creates one topic; one that exists already is no error.
func createTopic(ctx context.Context, client *kafka.Client, tc kafka.TopicConfig) error {
	resp, err := client.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{tc}})
	if err == nil {
		err = resp.Errors[tc.Topic]
	}
	if errors.Is(err, kafka.TopicAlreadyExists) {
		return nil
	}
	return err
}
