package kafkawire

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// kfakeTopic starts kfake with topic "t", one partition of n messages whose
// values are their offsets.
func kfakeTopic(t *testing.T, n int) (*kfake.Cluster, string) {
	t.Helper()
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "t"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	addr := cluster.ListenAddrs()[0]
	w := &kafka.Writer{Addr: kafka.TCP(addr), Topic: "t", Compression: kafka.Lz4,
		BatchSize: 100, BatchTimeout: time.Millisecond, RequiredAcks: kafka.RequireAll}
	msgs := make([]kafka.Message, n)
	for i := range msgs {
		msgs[i] = kafka.Message{Value: []byte(strconv.Itoa(i))}
	}
	if err := w.WriteMessages(t.Context(), msgs...); err != nil && n > 0 {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return cluster, addr
}

// readAllFrom fetches with r until it has handled every offset below end,
// handling each message with handle, and returns their offsets and the
// fetch errors met on the way.
func readAllFrom(t *testing.T, r *PartitionReader, end int64, handle func(kafka.Message) error) ([]int64, []error) {
	t.Helper()
	var got []int64
	var errs []error
	for fetches := 0; r.offset < end; fetches++ {
		if fetches > 100 {
			t.Fatalf("no progress at offset %d after %d fetches: %v", r.offset, fetches, errs)
		}
		_, err := r.Fetch(t.Context(), func(m kafka.Message) error {
			if err := handle(m); err != nil {
				return err
			}
			if string(m.Value) != strconv.FormatInt(m.Offset, 10) {
				t.Fatalf("offset %d holds %q", m.Offset, m.Value)
			}
			got = append(got, m.Offset)
			return nil
		})
		if err != nil {
			errs = append(errs, err)
		}
	}
	return got, errs
}

func inOrder(offsets []int64, from int64) bool {
	for i, o := range offsets {
		if o != from+int64(i) {
			return false
		}
	}
	return true
}

// TestPartitionReaderRecovers: after a handler error the failed message is
// offered again on the same connection; after the broker drops the
// connection the next fetch dials again from the same offset. Every
// message is handled once, in order, and the lag ends at 0.
func TestPartitionReaderRecovers(t *testing.T) {
	cluster, addr := kfakeTopic(t, 1000)
	r := NewPartitionReader(nil, []string{addr}, "t", 0, kafka.FirstOffset)
	defer r.Close()
	r.maxBytes = 2000 // a few batches a fetch
	failed, dropped := false, false
	handle := func(m kafka.Message) error {
		if m.Offset == 250 && !failed {
			failed = true
			return errors.New("sink down")
		}
		if m.Offset == 600 && !dropped {
			dropped = true
			cluster.ControlKey(int16(kmsg.Fetch), func(kmsg.Request) (kmsg.Response, error, bool) {
				return nil, errors.New("connection dropped"), true
			})
		}
		return nil
	}
	got, errs := readAllFrom(t, r, 1000, handle)
	if len(got) != 1000 || !inOrder(got, 0) {
		t.Fatalf("handled %d messages, not every offset once and in order", len(got))
	}
	var herr HandlerError
	if len(errs) != 2 || !errors.As(errs[0], &herr) || errors.As(errs[1], &herr) {
		t.Errorf("fetch errors %v, want a handler error, then a connection error", errs)
	}
	if r.Lag() != 0 {
		t.Errorf("lag %d at the end", r.Lag())
	}
}

// TestPartitionReaderIdleAndCancel: at the end of the partition a fetch
// waits out the fetch wait and handles nothing; a cancelled context ends a
// fetch blocked for a minute at once.
func TestPartitionReaderIdleAndCancel(t *testing.T) {
	_, addr := kfakeTopic(t, 10)
	r := NewPartitionReader(nil, []string{addr}, "t", 0, kafka.LastOffset)
	defer r.Close()
	nothing := func(m kafka.Message) error { t.Fatalf("handled offset %d", m.Offset); return nil }
	if n, err := r.Fetch(t.Context(), nothing); n != 0 || err != nil || r.offset != 10 {
		t.Fatalf("fetch at the end = %d, %v at offset %d; want 0, nil at 10", n, err, r.offset)
	}
	r.maxWait = time.Minute
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	if _, err := r.Fetch(ctx, nothing); !errors.Is(err, context.Canceled) {
		t.Errorf("fetch after cancel = %v, want context.Canceled", err)
	}
	if waited := time.Since(start); waited > 5*time.Second {
		t.Errorf("a cancelled fetch returned after %s", waited)
	}
}

// TestPartitionReaderDeletedOffsets: a fetch below the partition's first
// offset (retention deleted what was never processed) moves the reader to
// the first offset and says how many messages were lost.
func TestPartitionReaderDeletedOffsets(t *testing.T) {
	cluster, addr := kfakeTopic(t, 200)
	respond(cluster, kmsg.Fetch, false, func(req kmsg.Request) kmsg.Response {
		resp := req.ResponseKind().(*kmsg.FetchResponse)
		topic := kmsg.NewFetchResponseTopic()
		topic.Topic = "t"
		p := kmsg.NewFetchResponseTopicPartition()
		p.ErrorCode, p.HighWatermark = int16(kafka.OffsetOutOfRange), -1
		topic.Partitions = append(topic.Partitions, p)
		resp.Topics = append(resp.Topics, topic)
		return resp
	})
	respond(cluster, kmsg.ListOffsets, true, func(req kmsg.Request) kmsg.Response {
		resp := req.ResponseKind().(*kmsg.ListOffsetsResponse)
		for _, rt := range req.(*kmsg.ListOffsetsRequest).Topics {
			topic := kmsg.NewListOffsetsResponseTopic()
			topic.Topic = rt.Topic
			for _, rp := range rt.Partitions {
				p := kmsg.NewListOffsetsResponseTopicPartition()
				p.Partition, p.Offset = rp.Partition, 200
				if rp.Timestamp == -2 { // earliest
					p.Offset = 100
				}
				p.OldStyleOffsets = []int64{p.Offset}
				topic.Partitions = append(topic.Partitions, p)
			}
			resp.Topics = append(resp.Topics, topic)
		}
		return resp
	})
	r := NewPartitionReader(nil, []string{addr}, "t", 0, 10)
	defer r.Close()
	got, errs := readAllFrom(t, r, 200, func(kafka.Message) error { return nil })
	if len(errs) != 1 || !errors.Is(errs[0], kafka.OffsetOutOfRange) || !strings.Contains(errs[0].Error(), "offsets 10 to 99 were deleted before they were processed (90 messages lost); continuing at 100") {
		t.Errorf("fetch errors %v, want one saying offsets 10 to 99 were lost", errs)
	}
	if len(got) != 100 || !inOrder(got, 100) {
		t.Errorf("handled %d messages from offset %v, want 100 to 199", len(got), got[:min(len(got), 1)])
	}
}

// TestPartitionReaderStepsOverControlBatches: a response that ends with a
// transaction marker moves the next fetch past it, so that the reader does
// not fetch the marker again and again, and the lag is 0.
func TestPartitionReaderStepsOverControlBatches(t *testing.T) {
	cluster, addr := kfakeTopic(t, 0)
	set := append(testBatch{base: 0, lastOffsetDelta: 1, records: []testRecord{
		{offsetDelta: 0, value: []byte("0")}, {offsetDelta: 1, value: []byte("1")},
	}}.bytes(), testBatch{base: 2, attributes: batchControl, records: records(1)}.bytes()...)
	respond(cluster, kmsg.Fetch, false, func(req kmsg.Request) kmsg.Response {
		resp := req.ResponseKind().(*kmsg.FetchResponse)
		topic := kmsg.NewFetchResponseTopic()
		topic.Topic = "t"
		p := kmsg.NewFetchResponseTopicPartition()
		p.HighWatermark, p.LastStableOffset, p.RecordBatches = 3, 3, set
		topic.Partitions = append(topic.Partitions, p)
		resp.Topics = append(resp.Topics, topic)
		return resp
	})
	r := NewPartitionReader(nil, []string{addr}, "t", 0, 0)
	defer r.Close()
	n, err := r.Fetch(t.Context(), func(kafka.Message) error { return nil })
	if n != 2 || err != nil || r.offset != 3 || r.Lag() != 0 {
		t.Errorf("fetch = %d, %v, offset %d, lag %d; want 2, nil, 3, 0", n, err, r.offset, r.Lag())
	}
}

// respond makes the cluster answer requests of key with answer: once, or
// every time when keep is set.
func respond(cluster *kfake.Cluster, key kmsg.Key, keep bool, answer func(kmsg.Request) kmsg.Response) {
	cluster.ControlKey(int16(key), func(req kmsg.Request) (kmsg.Response, error, bool) {
		if keep {
			cluster.KeepControl()
		}
		return answer(req), nil, true
	})
}
