package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/cohortline/cohortline/pipeline"
)

// kafkaAdmin holds the requests the benchmark makes to the broker besides
// reading: offsets, group commits, deleting what it created.
type kafkaAdmin struct {
	addr   string
	client *kafka.Client
}

func newKafkaAdmin(addr string, d *pipeline.Dialer) *kafkaAdmin {
	return &kafkaAdmin{addr: addr, client: &kafka.Client{Addr: kafka.TCP(addr), Timeout: 10 * time.Second, Transport: d.Transport()}}
}

// partitionRange is the messages of one partition: offsets [First, End).
type partitionRange struct {
	Partition  int
	First, End int64
}

// createTopic creates topic with partitions partitions (replication 1).
// Creating it here rather than leaving it to gen also refreshes the
// client's metadata cache, which would otherwise not know the topic for a
// few seconds.
func (k *kafkaAdmin) createTopic(ctx context.Context, topic string, partitions int) error {
	resp, err := k.client.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{{
		Topic: topic, NumPartitions: partitions, ReplicationFactor: 1,
	}}})
	if err == nil {
		err = resp.Errors[topic]
	}
	if err != nil {
		return fmt.Errorf("creating topic %q: %w", topic, err)
	}
	return nil
}

// topicRanges returns every partition's range of topic, by partition.
func (k *kafkaAdmin) topicRanges(ctx context.Context, topic string) ([]partitionRange, error) {
	md, err := k.client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return nil, fmt.Errorf("reading the metadata of topic %q: %w", topic, err)
	}
	if len(md.Topics) != 1 || md.Topics[0].Error != nil {
		return nil, fmt.Errorf("reading the metadata of topic %q: %v", topic, md.Topics)
	}
	var reqs []kafka.OffsetRequest
	for _, p := range md.Topics[0].Partitions {
		reqs = append(reqs, kafka.FirstOffsetOf(p.ID), kafka.LastOffsetOf(p.ID))
	}
	resp, err := k.client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: reqs}})
	if err != nil {
		return nil, fmt.Errorf("listing the offsets of topic %q: %w", topic, err)
	}
	ranges := make([]partitionRange, len(md.Topics[0].Partitions))
	for _, po := range resp.Topics[topic] {
		if po.Error != nil {
			return nil, fmt.Errorf("listing the offsets of %s/%d: %w", topic, po.Partition, po.Error)
		}
		if po.Partition < 0 || po.Partition >= len(ranges) {
			return nil, fmt.Errorf("listing the offsets of topic %q: unexpected partition %d", topic, po.Partition)
		}
		ranges[po.Partition] = partitionRange{Partition: po.Partition, First: po.FirstOffset, End: po.LastOffset}
	}
	return ranges, nil
}

// messages is the number of messages in ranges.
func messages(ranges []partitionRange) int64 {
	var n int64
	for _, r := range ranges {
		n += r.End - r.First
	}
	return n
}

// commitStart commits the first offset of every partition for group, as a
// client outside the group may while the group has no members (generation
// -1). A group that has never committed starts where its consumers'
// reset policy says: for ClickHouse 18.16's Kafka engine, the end.
func (k *kafkaAdmin) commitStart(ctx context.Context, group, topic string, ranges []partitionRange) error {
	var commits []kafka.OffsetCommit
	for _, r := range ranges {
		commits = append(commits, kafka.OffsetCommit{Partition: r.Partition, Offset: r.First})
	}
	// A fresh broker may not have a coordinator for the group yet.
	var err error
	for attempt := 0; attempt < 50; attempt++ {
		if err = k.commitOnce(ctx, group, topic, commits); !retriable(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return err
}

func (k *kafkaAdmin) commitOnce(ctx context.Context, group, topic string, commits []kafka.OffsetCommit) error {
	resp, err := k.client.OffsetCommit(ctx, &kafka.OffsetCommitRequest{
		GroupID: group, GenerationID: -1, Topics: map[string][]kafka.OffsetCommit{topic: commits},
	})
	if err != nil {
		return fmt.Errorf("committing the start offsets of group %q: %w", group, err)
	}
	for _, p := range resp.Topics[topic] {
		if p.Error != nil {
			return fmt.Errorf("committing the start offset of %s/%d for group %q: %w", topic, p.Partition, group, p.Error)
		}
	}
	return nil
}

// retriable reports whether err is a Kafka error that a later request may
// not meet (not the coordinator yet, coordinator loading, leader moving).
func retriable(err error) bool {
	var kerr kafka.Error
	return errors.As(err, &kerr) && kerr.Temporary()
}

// committedAll reports whether group has committed the end of every range.
func (k *kafkaAdmin) committedAll(ctx context.Context, group, topic string, ranges []partitionRange) (bool, error) {
	committed, err := k.committed(ctx, group, topic, ranges)
	if committed == nil || err != nil {
		return false, err
	}
	for _, r := range ranges {
		if committed[r.Partition] < r.End {
			return false, nil
		}
	}
	return true, nil
}

// committed returns group's committed offset of every partition of ranges
// (-1: none yet), or nil and no error when the broker asks to be asked
// again (e.g. the coordinator of a fresh broker is still loading).
func (k *kafkaAdmin) committed(ctx context.Context, group, topic string, ranges []partitionRange) (map[int]int64, error) {
	var parts []int
	for _, r := range ranges {
		parts = append(parts, r.Partition)
	}
	resp, err := k.client.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{topic: parts}})
	if err == nil {
		err = resp.Error
	}
	if retriable(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("fetching the offsets of group %q: %w", group, err)
	}
	committed := map[int]int64{}
	for _, p := range resp.Topics[topic] {
		if retriable(p.Error) {
			return nil, nil
		}
		if p.Error != nil {
			return nil, fmt.Errorf("fetching the offset of %s/%d for group %q: %w", topic, p.Partition, group, p.Error)
		}
		committed[p.Partition] = p.CommittedOffset
	}
	return committed, nil
}

// deleteGroup deletes group once its members have left (a member leaving
// after SIGTERM or DROP TABLE may take a moment).
func (k *kafkaAdmin) deleteGroup(ctx context.Context, group string) error {
	var err error
	for range 20 {
		var resp *kafka.DeleteGroupsResponse
		resp, err = k.client.DeleteGroups(ctx, &kafka.DeleteGroupsRequest{GroupIDs: []string{group}})
		if err == nil {
			err = resp.Errors[group]
		}
		if err == nil || errors.Is(err, kafka.GroupIdNotFound) {
			return nil
		}
		if !errors.Is(err, kafka.NonEmptyGroup) {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
	return fmt.Errorf("deleting consumer group %q: %w", group, err)
}

// deleteTopics deletes topics; a topic that does not exist is no error.
func (k *kafkaAdmin) deleteTopics(ctx context.Context, topics ...string) error {
	resp, err := k.client.DeleteTopics(ctx, &kafka.DeleteTopicsRequest{Topics: topics})
	if err != nil {
		return fmt.Errorf("deleting topics %v: %w", topics, err)
	}
	var errs []error
	for t, err := range resp.Errors {
		if err != nil && !errors.Is(err, kafka.UnknownTopicOrPartition) {
			errs = append(errs, fmt.Errorf("deleting topic %q: %w", t, err))
		}
	}
	return errors.Join(errs...)
}
