package pipeline

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/cohortline/cohortline/deploy/devenv"
)

// The dead-letter topic is created with the input topic's partition count
// before any worker writes to it, and an existing one is left alone.
func TestEnsureDeadLetterTopic(t *testing.T) {
	addr := devenv.Kafka(t)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	client := &kafka.Client{Addr: kafka.TCP(addr), Timeout: 10 * time.Second}
	input := fmt.Sprintf("it-dlq-input-%d", time.Now().UnixNano())
	dead := input + ".dlq"
	if _, err := client.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{{Topic: input, NumPartitions: 3, ReplicationFactor: 1}}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		client.DeleteTopics(context.WithoutCancel(ctx), &kafka.DeleteTopicsRequest{Topics: []string{input, dead}})
	})

	for range 2 { // the second call finds it
		if err := ensureDeadLetterTopic(ctx, nil, []string{addr}, input, dead); err != nil {
			t.Fatal(err)
		}
	}
	meta, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{dead}})
	if err != nil {
		t.Fatal(err)
	}
	if len(meta.Topics) != 1 || meta.Topics[0].Error != nil || len(meta.Topics[0].Partitions) != 3 {
		t.Fatalf("dead-letter topic metadata %+v, want 3 partitions like the input", meta.Topics)
	}

	err = ensureDeadLetterTopic(ctx, nil, []string{addr}, input+"-missing", dead+"-missing")
	if err == nil || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("missing input topic: %v, want a clear error", err)
	}
}
