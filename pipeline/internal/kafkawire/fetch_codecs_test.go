package kafkawire

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"
)

// testCodecs are the compression codecs a producer may use.
var testCodecs = []struct {
	name  string
	codec kafka.Compression
}{{"none", 0}, {"gzip", kafka.Gzip}, {"snappy", kafka.Snappy}, {"lz4", kafka.Lz4}, {"zstd", kafka.Zstd}}

// TestFetchConnMatchesKafkaGo reads, for every codec, a partition that
// kafka-go's Writer produced to kfake with fetchConn and with kafka-go's
// Conn.ReadBatch, from several offsets (the first, one inside a batch, the
// last, the high-water mark) and with byte limits down to one batch per
// fetch: the same messages come out, and they are the ones produced.
func TestFetchConnMatchesKafkaGo(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	addr := cluster.ListenAddrs()[0]
	for _, c := range testCodecs {
		t.Run(c.name, func(t *testing.T) {
			topic := "codec-" + c.name
			createTestTopic(t, addr, topic)
			compareWithKafkaGo(t, addr, topic, produceCodecMessages(t, addr, topic, c.codec))
		})
	}
}

// codecCluster starts kfake with a one-partition topic per codec, named
// prefix and the codec's name, in the order of testCodecs.
func codecCluster(tb testing.TB, prefix string) (*kfake.Cluster, []string) {
	var topics []string
	for _, c := range testCodecs {
		topics = append(topics, prefix+c.name)
	}
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, topics...))
	if err != nil {
		tb.Fatal(err)
	}
	return cluster, topics
}

// compareWithKafkaGo checks that fetchConn and kafka-go read msgs, all of
// the topic's only partition, alike.
func compareWithKafkaGo(t *testing.T, addr, topic string, msgs []kafka.Message) {
	t.Helper()
	n := int64(len(msgs))
	for _, from := range []int64{0, n/2 + 7, n - 1, n} {
		want := readWithKafkaGo(t, addr, topic, from)
		if len(want) != int(n-from) {
			t.Fatalf("kafka-go read %d messages from offset %d, want %d", len(want), from, n-from)
		}
		for i, m := range want {
			if p := msgs[from+int64(i)]; !bytes.Equal(m.Key, p.Key) || !bytes.Equal(m.Value, p.Value) || !m.Time.Equal(p.Time) {
				t.Fatalf("kafka-go read offset %d unlike it was produced", m.Offset)
			}
		}
		for _, maxBytes := range []int32{1, 64 << 10, 4 << 20} {
			got := readWithFetchConn(t, addr, topic, from, maxBytes)
			if err := sameMessages(got, want); err != nil {
				t.Errorf("from offset %d, at most %d bytes a fetch: %v", from, maxBytes, err)
			}
			// kafka-go reads an empty key as null; fetchConn keeps them apart.
			for _, m := range got {
				if (m.Key == nil) != (msgs[m.Offset].Key == nil) {
					t.Fatalf("offset %d: key %#v, produced %#v", m.Offset, m.Key, msgs[m.Offset].Key)
				}
			}
		}
	}
}

// sameMessages says how got differs from want, field by field.
func sameMessages(got, want []kafka.Message) error {
	if len(got) != len(want) {
		return fmt.Errorf("%d messages, want %d", len(got), len(want))
	}
	for i, g := range got {
		w := want[i]
		switch {
		case g.Topic != w.Topic || g.Partition != w.Partition || g.Offset != w.Offset:
			return fmt.Errorf("message %d is %s/%d at %d, want %s/%d at %d", i, g.Topic, g.Partition, g.Offset, w.Topic, w.Partition, w.Offset)
		case !bytes.Equal(g.Key, w.Key):
			return fmt.Errorf("offset %d: key %q, want %q", g.Offset, g.Key, w.Key)
		case !bytes.Equal(g.Value, w.Value):
			return fmt.Errorf("offset %d: a value of %d bytes, want %d", g.Offset, len(g.Value), len(w.Value))
		case !g.Time.Equal(w.Time):
			return fmt.Errorf("offset %d: time %v, want %v", g.Offset, g.Time, w.Time)
		case g.HighWaterMark != w.HighWaterMark:
			return fmt.Errorf("offset %d: high-water mark %d, want %d", g.Offset, g.HighWaterMark, w.HighWaterMark)
		case g.Headers != nil:
			return fmt.Errorf("offset %d: headers %v", g.Offset, g.Headers)
		}
	}
	return nil
}

// createTestTopic creates a one-partition topic whose batches may reach
// 32 MiB, deleted at the end of the test.
func createTestTopic(t *testing.T, addr, topic string) {
	t.Helper()
	client := &kafka.Client{Addr: kafka.TCP(addr), Timeout: 10 * time.Second}
	created, err := client.CreateTopics(t.Context(), &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{{
		Topic: topic, NumPartitions: 1, ReplicationFactor: 1,
		ConfigEntries: []kafka.ConfigEntry{{ConfigName: "max.message.bytes", ConfigValue: strconv.Itoa(32 << 20)}},
	}}})
	if err == nil {
		err = created.Errors[topic]
	}
	if err != nil {
		t.Fatalf("creating topic %s: %v", topic, err)
	}
	t.Cleanup(func() {
		client.DeleteTopics(context.Background(), &kafka.DeleteTopicsRequest{Topics: []string{topic}})
	})
}

// produceCodecMessages writes 3000 messages to topic with kafka-go's
// Writer compressing with codec, and returns them. Keys are null, empty,
// short or long; values empty, small or larger than 64 KiB, and one batch
// holds over 4 MiB (two thirds of it incompressible), so that kafka-go's
// lz4 frames, of 4 MiB blocks, have compressed and stored blocks. Times go
// back and forth within a batch.
func produceCodecMessages(t *testing.T, addr, topic string, codec kafka.Compression) []kafka.Message {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	msgs := make([]kafka.Message, 3000)
	base := time.UnixMilli(1_700_000_000_000)
	for i := range msgs {
		m := &msgs[i]
		switch i % 4 {
		case 1:
			m.Key = []byte{}
		case 2:
			m.Key = []byte("user-" + strconv.Itoa(i))
		case 3:
			m.Key = bytes.Repeat([]byte{'k'}, 200+i%50)
		}
		size := rng.IntN(400)
		switch {
		case i == 1500:
			size = 6 << 20
		case i%7 == 0:
			size = 0
		case i%150 == 0:
			size = 64<<10 + rng.IntN(100<<10)
		}
		m.Value = testValue(rng, size, i == 1500)
		m.Time = base.Add(time.Duration(i*37-rng.IntN(5000)) * time.Millisecond)
	}
	w := &kafka.Writer{Addr: kafka.TCP(addr), Topic: topic, Compression: codec,
		BatchSize: 700, BatchBytes: 16 << 20, BatchTimeout: time.Millisecond, RequiredAcks: kafka.RequireAll}
	if err := w.WriteMessages(t.Context(), msgs...); err != nil {
		t.Fatalf("producing to %s: %v", topic, err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	for i := range msgs {
		msgs[i].Topic, msgs[i].Offset = topic, int64(i)
	}
	return msgs
}

// testValue returns size bytes that compress about twice, or, when random,
// whose first two thirds do not compress at all.
func testValue(rng *rand.Rand, size int, random bool) []byte {
	v := make([]byte, size)
	for i := range v {
		if random && i < 2*size/3 {
			v[i] = byte(rng.Uint32())
		} else {
			v[i] = "abcdefghijklmnop"[rng.IntN(16)]
		}
	}
	return v
}

// readWithKafkaGo reads the topic's only partition from offset to its end
// with kafka-go's Conn.ReadBatch, as the pipeline did before fetchConn.
func readWithKafkaGo(t *testing.T, addr, topic string, offset int64) []kafka.Message {
	t.Helper()
	conn, err := kafka.DialLeader(t.Context(), "tcp", addr, topic, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var out []kafka.Message
	for {
		if _, err := conn.Seek(offset, kafka.SeekAbsolute|kafka.SeekDontCheck); err != nil {
			t.Fatal(err)
		}
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		batch := conn.ReadBatchWith(kafka.ReadBatchConfig{MinBytes: 1, MaxBytes: 4 << 20, MaxWait: 50 * time.Millisecond})
		for {
			m, err := batch.ReadMessage()
			if err != nil {
				break
			}
			out = append(out, m)
			offset = m.Offset + 1
		}
		if err := batch.Close(); err != nil && !errors.Is(err, kafka.RequestTimedOut) {
			t.Fatalf("kafka-go reading %s at offset %d: %v", topic, offset, err)
		}
		if offset >= batch.HighWaterMark() {
			return out
		}
	}
}

// readWithFetchConn reads the topic's only partition from offset to its end
// with fetchConn, at most maxBytes a fetch, copying every key and value.
func readWithFetchConn(t *testing.T, addr, topic string, offset int64, maxBytes int32) []kafka.Message {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	f := newFetchConn(conn, topic, 0)
	defer f.close()
	var out []kafka.Message
	for {
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		if err := f.fetch(offset, 50*time.Millisecond, 1, maxBytes); err != nil {
			t.Fatalf("fetching %s at offset %d: %v", topic, offset, err)
		}
		var m kafka.Message
		for {
			err := f.next(&m)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("reading %s after offset %d: %v", topic, offset, err)
			}
			m.Key, m.Value = bytes.Clone(m.Key), bytes.Clone(m.Value)
			out = append(out, m)
			offset = m.Offset + 1
		}
		offset = max(offset, f.nextOffset())
		if offset >= f.highWater {
			return out
		}
	}
}
