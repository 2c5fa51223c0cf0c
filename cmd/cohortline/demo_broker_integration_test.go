package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/cohortline/cohortline/cohorts"
	"github.com/cohortline/cohortline/deploy/devenv"
	"github.com/cohortline/cohortline/pipeline"
	"github.com/cohortline/cohortline/sinks/clickhouse"
)

// TestEmbeddedBrokerPipeline runs the real pipeline on the demo's embedded
// broker (kfake) into the real ClickHouse and checks what the pipeline
// asks of a broker: gen creates the topic and produces lz4 batches; the
// consumer group joins and assigns every partition, the partition readers
// list offsets and fetch, bad records go to a dead-letter topic the
// consumer creates; the partials equal TestRunEndToEnd's reference
// exactly; offsets are committed up to the end, and a new member of the
// group resumes there and reads nothing again.
func TestEmbeddedBrokerPipeline(t *testing.T) {
	chAddr := devenv.ClickHouse(t)
	cluster, err := startEmbeddedBroker()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close) // after the consumers: cleanups run last-in first-out
	suffix := time.Now().UnixNano()
	s := &faultSet{kafka: cluster.ListenAddrs()[0], clickhouse: chAddr, dir: t.TempDir(),
		name: fmt.Sprintf("embedded-%d", suffix), db: fmt.Sprintf("it_embedded_%d", suffix)}
	s.ndjson = filepath.Join(s.dir, "events.ndjson")
	genFlags := []string{"gen", "--seed", "21", "--users", "3000", "--events", "60000", "--span", "4h",
		"--late", "0.02", "--duplicates", "0.02", "--bad", "0.01", "--drift-share", "0.2"}
	for _, out := range [][]string{{"--out", s.ndjson}, {"--kafka", s.kafka, "--topic", s.name, "--partitions", fmt.Sprint(e2ePartitions)}} {
		if code, _, errOut := runCLI(t, "", append(genFlags, out...)...); code != exitOK {
			t.Fatalf("gen %v: exit %d: %s", out, code, errOut)
		}
	}
	cfg, err := loadConfig(s.writeConfig(t, "cohortline.yaml", runOptions{}), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	want := streamingReference(t, s.ndjson, cfg.Spec)
	client, err := clickhouse.Open(t.Context(), cfg.File.ClickHouse)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	t.Cleanup(func() { dropDatabases(t, chAddr, s.db, s.db+"_published") })
	if _, err := client.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}

	var logs lockedBuffer
	first := startConsumer(t, cfg, client, &logs)
	got, err := waitForPartials(t, client, want, 120*time.Second, first.exit)
	if err != nil {
		t.Fatalf("%v\nlogs:\n%s", err, tail(logs.String(), 20))
	}
	t.Logf("%d partials equal the reference", len(got))

	ends := offsetsAt(t, s.kafka, s.name, kafka.LastOffset)
	if !waitUntil(30*time.Second, func() bool { return slices.Equal(committedOffsets(t, s.kafka, s.name, s.name), ends) }) {
		t.Fatalf("committed offsets %v, want the end offsets %v", committedOffsets(t, s.kafka, s.name, s.name), ends)
	}
	var rejected uint64
	for _, c := range first.consumer.Counters() {
		rejected += c.Rejected.Load()
	}
	dead := offsetsAt(t, s.kafka, s.name+".dlq", kafka.LastOffset)
	if total := sum(dead); rejected == 0 || total != int64(rejected) {
		t.Errorf("the dead-letter topic holds %d messages, the workers rejected %d", total, rejected)
	}
	first.stop(t)

	second := startConsumer(t, cfg, client, &logs)
	defer second.stop(t)
	caughtUp := func() bool {
		parts := second.consumer.Partitions()
		for p := range e2ePartitions {
			if st, ok := parts[p]; !ok || st.Lag != 0 {
				return false
			}
		}
		return true
	}
	if !waitUntil(60*time.Second, caughtUp) {
		t.Fatalf("a new member of the group has not caught up: %+v\nlogs:\n%s", second.consumer.Partitions(), tail(logs.String(), 20))
	}
	for p, c := range second.consumer.Counters() {
		if n := c.Messages.Load(); n != 0 {
			t.Errorf("partition %d: the new member read %d messages again; it must resume at the committed offset", p, n)
		}
	}
}

// runningConsumer is a pipeline.Consumer running on its own goroutine.
type runningConsumer struct {
	consumer *pipeline.Consumer
	cancel   context.CancelFunc
	exit     chan int // exitOK when Run returned nil, else exitFailure
}

func startConsumer(t *testing.T, cfg *config, client *clickhouse.Client, logs *lockedBuffer) *runningConsumer {
	t.Helper()
	rekey, err := cohorts.NewRekeyer(cfg.Secret)
	if err != nil {
		t.Fatal(err)
	}
	c, err := pipeline.NewConsumer(cfg.File.Kafka, &cfg.Spec, rekey, client.Writer(), slog.New(slog.NewJSONHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	r := &runningConsumer{consumer: c, cancel: cancel, exit: make(chan int, 1)}
	go func() {
		if err := c.Run(ctx); err != nil {
			t.Logf("consumer: %v", err)
			r.exit <- exitFailure
			return
		}
		r.exit <- exitOK
	}()
	return r
}

// stop cancels the consumer and waits until Run has returned, at most 30s.
func (r *runningConsumer) stop(t *testing.T) {
	t.Helper()
	r.cancel()
	select {
	case code := <-r.exit:
		r.exit <- code
		if code != exitOK {
			t.Errorf("consumer stopped with an error")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("consumer still running 30s after its context was cancelled")
	}
}

// offsetsAt lists the offset of every partition of topic at a position
// (kafka.LastOffset: the end), by partition.
func offsetsAt(t *testing.T, addr, topic string, at int64) []int64 {
	t.Helper()
	return offsetsAtOf(t, addr, topic, at, e2ePartitions)
}

// offsetsAtOf is offsetsAt for a topic of n partitions.
func offsetsAtOf(t *testing.T, addr, topic string, at int64, n int) []int64 {
	t.Helper()
	client := &kafka.Client{Addr: kafka.TCP(addr), Timeout: 10 * time.Second}
	reqs := make([]kafka.OffsetRequest, n)
	for p := range reqs {
		reqs[p] = kafka.OffsetRequest{Partition: p, Timestamp: at}
	}
	resp, err := client.ListOffsets(t.Context(), &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: reqs}})
	if err != nil {
		t.Fatalf("listing the offsets of %s: %v", topic, err)
	}
	out := make([]int64, n)
	for _, po := range resp.Topics[topic] {
		if po.Error != nil {
			t.Fatalf("listing the offsets of %s/%d: %v", topic, po.Partition, po.Error)
		}
		out[po.Partition] = po.LastOffset
	}
	return out
}

// committedOffsets lists the offsets group committed for topic, by
// partition (-1: none).
func committedOffsets(t *testing.T, addr, group, topic string) []int64 {
	t.Helper()
	return committedOffsetsOf(t, addr, group, topic, e2ePartitions)
}

// committedOffsetsOf is committedOffsets for a topic of n partitions.
func committedOffsetsOf(t *testing.T, addr, group, topic string, n int) []int64 {
	t.Helper()
	client := &kafka.Client{Addr: kafka.TCP(addr), Timeout: 10 * time.Second}
	partitions := make([]int, n)
	for p := range partitions {
		partitions[p] = p
	}
	resp, err := client.OffsetFetch(t.Context(), &kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{topic: partitions}})
	if err != nil {
		t.Fatalf("fetching the offsets of group %s: %v", group, err)
	}
	out := make([]int64, n)
	for _, po := range resp.Topics[topic] {
		out[po.Partition] = po.CommittedOffset
	}
	return out
}

func sum(offsets []int64) int64 {
	var n int64
	for _, o := range offsets {
		n += o
	}
	return n
}
