package main

import (
	"context"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/cohortline/cohortline/pipeline/archive"
	"github.com/cohortline/cohortline/pipeline/backfill"
)

// openArchive opens an archive file for a files backfill.
func openArchive(path string) (backfill.RecordReader, error) { return archive.Open(path) }

// archiveFormat checks that a file's name says a format backfill reads.
func archiveFormat(path string) (archive.Format, error) {
	f, _, err := archive.FormatOf(path)
	return f, err
}

// topicPartitions asks Kafka how many partitions topic has.
func topicPartitions(ctx context.Context, brokers []string, topic string) (int, error) {
	client := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 10 * time.Second}
	md, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return 0, fmt.Errorf("reading the partition count of topic %q from %v: %w", topic, brokers, err)
	}
	if len(md.Topics) != 1 || md.Topics[0].Error != nil || len(md.Topics[0].Partitions) == 0 {
		return 0, fmt.Errorf("topic %q has no partitions on %v", topic, brokers)
	}
	return len(md.Topics[0].Partitions), nil
}
