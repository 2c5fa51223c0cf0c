package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/cohortline/cohortline/schemas"

	"github.com/cohortline/cohortline/pipeline/pipelinetest"
)

// lockedSink makes a pipelinetest.MemorySink safe for the consumer's partition
// goroutines.
type lockedSink struct {
	mu   sync.Mutex
	sink *pipelinetest.MemorySink
}

func (s *lockedSink) WritePartials(ctx context.Context, rec arrow.Record, f schemas.Flush) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sink.WritePartials(ctx, rec, f)
}

func (s *lockedSink) LastFlush(ctx context.Context, topic string, partition int) (schemas.Flush, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sink.LastFlush(ctx, topic, partition)
}

// partitionRows is what a sink holds of one partition: by window start,
// the rows by cohort id.
func (s *lockedSink) partitionRows(partition int) map[int64]map[uint64]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[int64]map[uint64]string{}
	for key, rows := range s.sink.Rows {
		if key[1] == int64(partition) {
			out[key[0]] = rows
		}
	}
	return out
}

// TestConsumerOnKfake runs the Consumer, with no server at all, against
// the in-process broker the demo embeds (kfake) and checks each kafka-go
// path the pipeline uses there: topic creation, produce (lz4, murmur2
// keys), the consumer group (join, sync, heartbeat, assignment of every
// partition), list offsets and fetch (partitionReader), dead letters
// (the Consumer creates their topic) and offset commits. Every partition's
// partials equal those of a worker fed the same messages directly.
func TestConsumerOnKfake(t *testing.T) {
	const partitions = 3
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	addr := cluster.ListenAddrs()[0]
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()

	client := &kafka.Client{Addr: kafka.TCP(addr), Timeout: 10 * time.Second}
	created, err := client.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{{Topic: "activity", NumPartitions: partitions, ReplicationFactor: 1}}})
	if err != nil || created.Errors["activity"] != nil {
		t.Fatalf("creating the topic: %v %v", err, created)
	}
	msgs := testMessages(t, 20000)
	producer := &kafka.Writer{Addr: kafka.TCP(addr), Topic: "activity", Balancer: kafka.Murmur2Balancer{},
		Compression: kafka.Lz4, BatchSize: 1000, BatchTimeout: time.Millisecond, RequiredAcks: kafka.RequireOne}
	out := make([]kafka.Message, len(msgs))
	for i, m := range msgs {
		out[i] = kafka.Message{Key: m.Key, Value: m.Value}
	}
	if err := producer.WriteMessages(ctx, out...); err != nil {
		t.Fatalf("producing: %v", err)
	}
	if err := producer.Close(); err != nil {
		t.Fatal(err)
	}

	// The reference: each partition's messages, in the order produced,
	// through a worker of their own.
	cfg := testWorkerConfig(t, time.Hour, 5*time.Minute)
	ids := []int{0, 1, 2}
	byPartition := make([][]kafka.Message, partitions)
	want := make([]*lockedSink, partitions)
	wantDead := 0
	for _, m := range msgs {
		p := kafka.Murmur2Balancer{}.Balance(m, ids...)
		m.Partition, m.Offset = p, int64(len(byPartition[p]))
		byPartition[p] = append(byPartition[p], m)
	}
	for p := range partitions {
		want[p] = &lockedSink{sink: pipelinetest.NewMemorySink()}
		dead := &memoryDeadLetters{}
		noCommit := func(context.Context, int64) error { return nil }
		wk := NewWorker(cfg, "activity", 0, want[p].sink, dead, noCommit, &Counters{})
		for _, m := range byPartition[p] {
			if err := wk.Handle(ctx, m); err != nil {
				t.Fatal(err)
			}
		}
		if err := wk.Idle(ctx, time.Now()); err != nil {
			t.Fatal(err)
		}
		wantDead += len(dead.pending) + len(dead.durable)
	}

	got := &lockedSink{sink: pipelinetest.NewMemorySink()}
	consumer, err := NewConsumer(Config{Brokers: []string{addr}, Topic: "activity", IdleTimeout: 500 * time.Millisecond, MaxOutOfOrder: cfg.MaxOutOfOrder},
		cfg.Spec, cfg.Rekey, got, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- consumer.Run(runCtx) }()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	// Finished when the group has committed every partition up to its end:
	// the last windows are flushed and the dead letters written by then.
	finished := func() bool {
		resp, err := client.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: "cohortline", Topics: map[string][]int{"activity": ids}})
		if err != nil {
			return false
		}
		for _, po := range resp.Topics["activity"] {
			if po.Error != nil || po.CommittedOffset != int64(len(byPartition[po.Partition])) {
				return false
			}
		}
		return len(resp.Topics["activity"]) == partitions
	}
	for !finished() {
		select {
		case err := <-done:
			t.Fatalf("Run returned early: %v", err)
		case <-ctx.Done():
			t.Fatalf("the group has not committed every partition to its end: %+v", consumer.Partitions())
		case <-time.After(20 * time.Millisecond):
		}
	}

	for p := range partitions {
		g, w := got.partitionRows(p), want[p].partitionRows(0)
		if len(w) == 0 || !maps.EqualFunc(g, w, maps.Equal) {
			t.Errorf("partition %d: partials through kfake differ from the direct worker's:\n%s", p, rowsDiff(g, w))
		}
	}
	var rejected uint64
	for _, c := range consumer.Counters() {
		rejected += c.Rejected.Load()
	}
	end, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{
		"activity.dlq": {kafka.LastOffsetOf(0), kafka.LastOffsetOf(1), kafka.LastOffsetOf(2)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	var dead int64
	for _, po := range end.Topics["activity.dlq"] {
		dead += po.LastOffset
	}
	if wantDead == 0 || rejected != uint64(wantDead) || dead != int64(wantDead) {
		t.Errorf("dead letters: %d rejected, %d in the topic; the direct workers rejected %d", rejected, dead, wantDead)
	}
}

// rowsDiff names the windows whose rows differ.
func rowsDiff(got, want map[int64]map[uint64]string) string {
	var out []string
	for _, w := range slices.Sorted(maps.Keys(want)) {
		if !maps.Equal(got[w], want[w]) {
			out = append(out, fmt.Sprintf("window %s: %d rows, want %d", time.UnixMilli(w).UTC().Format(time.RFC3339), len(got[w]), len(want[w])))
		}
	}
	for w := range got {
		if _, ok := want[w]; !ok {
			out = append(out, fmt.Sprintf("window %s: not in the reference", time.UnixMilli(w).UTC().Format(time.RFC3339)))
		}
	}
	return fmt.Sprint(out)
}
