package kafkawire

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
)

// FuzzRecordBatch feeds the record-set decoder arbitrary bytes, starting
// from record sets that kafka-go's Writer produced with every codec and
// from hand-built control and LogAppendTime batches: it returns records or
// an error, never panics, and never hands out a record before the fetch
// offset or moves the next fetch backwards.
//
//	go test -run '^$' -fuzz FuzzRecordBatch -fuzztime 60s ./pipeline/
func FuzzRecordBatch(f *testing.F) {
	for _, set := range producedRecordSets(f) {
		f.Add(set, int64(0))
		f.Add(set, int64(3))
	}
	f.Add(testBatch{base: 0, attributes: batchControl, records: records(1)}.bytes(), int64(0))
	f.Add(testBatch{base: 0, attributes: batchLogAppendTime, lastOffsetDelta: 2, records: records(3)}.bytes(), int64(1))
	f.Fuzz(func(t *testing.T, set []byte, offset int64) {
		var s recordSet
		defer s.codecs.close()
		s.reset(set, offset)
		checkRecordSet(t, &s, offset)
		// Almost every change breaks the batch's CRC: with the CRCs made
		// right again, the decompressors and the record decoder get
		// fuzzed too.
		s.reset(resign(set), offset)
		checkRecordSet(t, &s, offset)
	})
}

// checkRecordSet reads s to its end.
func checkRecordSet(t *testing.T, s *recordSet, offset int64) {
	var m kafka.Message
	for s.next(&m) == nil {
		if m.Offset < offset {
			t.Fatalf("record at offset %d from a fetch at %d", m.Offset, offset)
		}
	}
	if s.nextOffset() < offset {
		t.Fatalf("next offset %d after a fetch at %d", s.nextOffset(), offset)
	}
}

// resign returns a copy of set whose v2 batches all have a right CRC-32C.
func resign(set []byte) []byte {
	set = bytes.Clone(set)
	for b := set; len(b) > batchHeaderSize; {
		end := batchLengthAt + 4 + int64(int32(binary.BigEndian.Uint32(b[batchLengthAt:])))
		if b[batchMagicAt] != 2 || end < batchHeaderSize || end > int64(len(b)) {
			break
		}
		binary.BigEndian.PutUint32(b[batchCRCAt:], crc32.Checksum(b[batchAttributesAt:end], castagnoli))
		b = b[end:]
	}
	return set
}

// producedRecordSets returns, for each codec, the record set of a fetch of
// a partition that kafka-go's Writer filled with 40 small messages in
// batches of 10, through kfake.
func producedRecordSets(tb testing.TB) [][]byte {
	cluster, topics := codecCluster(tb, "seed-")
	defer cluster.Close()
	addr := cluster.ListenAddrs()[0]
	var sets [][]byte
	for i, c := range testCodecs {
		topic := topics[i]
		w := &kafka.Writer{Addr: kafka.TCP(addr), Topic: topic, Compression: c.codec,
			BatchSize: 10, BatchTimeout: time.Millisecond, RequiredAcks: kafka.RequireAll}
		msgs := make([]kafka.Message, 40)
		for i := range msgs {
			msgs[i] = kafka.Message{Value: []byte("value " + strconv.Itoa(i)), Time: time.UnixMilli(int64(i))}
			if i%3 != 0 {
				msgs[i].Key = []byte(strconv.Itoa(i % 3))
			}
		}
		err := w.WriteMessages(tb.Context(), msgs...)
		w.Close()
		if err != nil {
			tb.Fatalf("producing to %s: %v", topic, err)
		}
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			tb.Fatal(err)
		}
		fc := newFetchConn(conn, topic, 0)
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		err = fc.fetch(0, 10*time.Millisecond, 1, 1<<20)
		sets = append(sets, append([]byte(nil), fc.records.data...))
		fc.close()
		if err != nil || len(sets[i]) == 0 {
			tb.Fatalf("fetching %s: %d bytes, %v", topic, len(sets[i]), err)
		}
	}
	return sets
}
