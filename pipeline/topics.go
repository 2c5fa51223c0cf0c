package pipeline

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"
)

// ensureDeadLetterTopic creates the dead-letter topic when it is missing,
// with as many partitions as the input topic (a re-drive keyed by the
// original key then lands as the original did) and the broker's default
// replication factor. kafka-go's automatic topic creation is not enough:
// the first write to a topic being created fails with "Unknown Topic Or
// Partition", which would fail every worker that meets a bad message first.
func ensureDeadLetterTopic(ctx context.Context, brokers []string, input, dead string) error {
	client := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 10 * time.Second}
	meta, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{input, dead}})
	if err != nil {
		return fmt.Errorf("reading metadata of %q and %q: %w", input, dead, err)
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
	resp, err := client.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{{
		Topic: dead, NumPartitions: partitions, ReplicationFactor: -1,
	}}})
	if err == nil {
		err = resp.Errors[dead]
	}
	if err != nil && !errors.Is(err, kafka.TopicAlreadyExists) {
		return fmt.Errorf("creating dead-letter topic %q: %w", dead, err)
	}
	return nil
}

// PartitionCount returns how many partitions topic has.
func PartitionCount(ctx context.Context, brokers []string, topic string) (int, error) {
	client := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 10 * time.Second}
	meta, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return 0, fmt.Errorf("reading metadata of %q: %w", topic, err)
	}
	for _, t := range meta.Topics {
		if t.Name == topic && t.Error == nil {
			return len(t.Partitions), nil
		}
	}
	return 0, fmt.Errorf("topic %q not found on %v", topic, brokers)
}
