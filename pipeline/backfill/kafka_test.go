package backfill

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/cohortline/cohortline/cohorts"
)

// TestPlanKafkaRefusesWhatRetentionDeleted plans backfills on an
// in-process broker (kfake) whose partitions retention has cut with
// DeleteRecords, as a broker's retention does: a partition emptied
// entirely and one that lost its oldest messages must both be refused,
// naming the partition; untouched partitions and a range after the
// deleted part plan as before.
func TestPlanKafkaRefusesWhatRetentionDeleted(t *testing.T) {
	day := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name      string
		deleteTo  map[int32]int64 // partition: new log start offset (-1: its end)
		from      time.Time
		wantError string
	}{
		{"nothing deleted", nil, day.Add(2 * time.Hour), ""},
		{"a partition emptied", map[int32]int64{1: -1}, day.Add(2 * time.Hour), "partition 1: retention has deleted every message (offsets 0 to 60)"},
		{"the range's start deleted", map[int32]int64{0: 30}, day.Add(2 * time.Hour), "partition 0: the oldest message left (offset 30) is already inside the range's lead-in"},
		{"only what is before the range deleted", map[int32]int64{0: 10}, day.Add(5 * time.Hour), ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			addr := topicWithHours(t, day)
			for p, to := range c.deleteTo {
				deleteRecords(t, addr, p, to)
			}
			spec := cohorts.DefaultSpec()
			spec.Window, spec.AllowedLateness = time.Hour, 0
			plan, err := PlanKafka(t.Context(), nil, []string{addr}, "activity", &spec, 10*time.Second, c.from, c.from.Add(time.Hour))
			switch {
			case c.wantError == "" && err != nil:
				t.Fatalf("PlanKafka: %v", err)
			case c.wantError == "":
				for _, pc := range plan {
					if pc.Start <= 0 || pc.End != 60 {
						t.Errorf("partition %d planned %+v, want a start inside the data and the end 60", pc.Partition, pc)
					}
				}
			case err == nil || !strings.Contains(err.Error(), c.wantError) || !strings.Contains(err.Error(), "--files"):
				t.Fatalf("PlanKafka: %v, want an error containing %q and pointing to --files", err, c.wantError)
			}
		})
	}
}

// topicWithHours makes a 2-partition topic "activity" on a fresh kfake
// broker: 60 messages per partition, 10 per hour of day from 00:00, their
// timestamps the event times.
func topicWithHours(t *testing.T, day time.Time) string {
	t.Helper()
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	addr := cluster.ListenAddrs()[0]
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	client := &kafka.Client{Addr: kafka.TCP(addr), Timeout: 10 * time.Second}
	if _, err := client.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{{Topic: "activity", NumPartitions: 2, ReplicationFactor: 1}}}); err != nil {
		t.Fatal(err)
	}
	for p := range 2 {
		var msgs []kafka.Message
		for i := range 60 {
			msgs = append(msgs, kafka.Message{Partition: p, Key: []byte(fmt.Sprint(i)), Value: []byte("{}"),
				Time: day.Add(time.Duration(i/10)*time.Hour + time.Duration(i%10)*time.Minute)})
		}
		w := &kafka.Writer{Addr: kafka.TCP(addr), Topic: "activity", Balancer: fixedPartition(p), RequiredAcks: kafka.RequireAll, BatchTimeout: time.Millisecond}
		if err := w.WriteMessages(ctx, msgs...); err != nil {
			t.Fatal(err)
		}
		w.Close()
	}
	return addr
}

type fixedPartition int

func (p fixedPartition) Balance(kafka.Message, ...int) int { return int(p) }

// deleteRecords moves partition p's log start to offset to (-1: its end),
// as retention does; kafka-go has no DeleteRecords, franz-go has.
func deleteRecords(t *testing.T, addr string, p int32, to int64) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	req := kmsg.NewPtrDeleteRecordsRequest()
	topic := kmsg.NewDeleteRecordsRequestTopic()
	topic.Topic = "activity"
	part := kmsg.NewDeleteRecordsRequestTopicPartition()
	part.Partition, part.Offset = p, to
	topic.Partitions = append(topic.Partitions, part)
	req.Topics = append(req.Topics, topic)
	req.TimeoutMillis = 10000
	resp, err := req.RequestWith(t.Context(), cl)
	if err != nil {
		t.Fatal(err)
	}
	for _, rt := range resp.Topics {
		for _, rp := range rt.Partitions {
			if rp.ErrorCode != 0 {
				t.Fatalf("DeleteRecords partition %d to %d: error code %d", rp.Partition, to, rp.ErrorCode)
			}
		}
	}
}
