package kafkawire

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"io"
	"strings"
	"testing"

	"github.com/segmentio/kafka-go"
)

// testRecord is a record of a hand-built batch.
type testRecord struct {
	offsetDelta int32
	timeDelta   int64
	key, value  []byte
	headers     int // how many headers it carries
}

// testBatch is a record batch built by hand, for what no producer at hand
// writes: control batches, LogAppendTime, headers, broken data.
type testBatch struct {
	base              int64
	attributes        uint16
	lastOffsetDelta   int32
	baseTime, maxTime int64
	records           []testRecord
	compress          func([]byte) []byte // nil: codec none
}

// bytes encodes the batch with a correct CRC-32C.
func (tb testBatch) bytes() []byte {
	var recs []byte
	for _, r := range tb.records {
		body := []byte{0} // attributes
		body = binary.AppendVarint(body, r.timeDelta)
		body = binary.AppendVarint(body, int64(r.offsetDelta))
		body = appendVarBytes(body, r.key)
		body = appendVarBytes(body, r.value)
		body = binary.AppendVarint(body, int64(r.headers))
		for range r.headers {
			body = appendVarBytes(body, []byte("header"))
			body = appendVarBytes(body, []byte("its value"))
		}
		recs = binary.AppendVarint(recs, int64(len(body)))
		recs = append(recs, body...)
	}
	if tb.compress != nil {
		recs = tb.compress(recs)
	}
	be := binary.BigEndian
	b := make([]byte, batchHeaderSize, batchHeaderSize+len(recs))
	be.PutUint64(b, uint64(tb.base))
	b[batchMagicAt] = 2
	be.PutUint16(b[batchAttributesAt:], tb.attributes)
	be.PutUint32(b[batchLastDeltaAt:], uint32(tb.lastOffsetDelta))
	be.PutUint64(b[batchBaseTimeAt:], uint64(tb.baseTime))
	be.PutUint64(b[batchMaxTimeAt:], uint64(tb.maxTime))
	be.PutUint64(b[43:], ^uint64(0)) // producerId -1
	be.PutUint16(b[51:], ^uint16(0)) // producerEpoch -1
	be.PutUint32(b[53:], ^uint32(0)) // baseSequence -1
	be.PutUint32(b[batchCountAt:], uint32(len(tb.records)))
	b = append(b, recs...)
	be.PutUint32(b[batchLengthAt:], uint32(len(b)-batchLengthAt-4))
	be.PutUint32(b[batchCRCAt:], crc32.Checksum(b[batchAttributesAt:], castagnoli))
	return b
}

func appendVarBytes(b, v []byte) []byte {
	if v == nil {
		return binary.AppendVarint(b, -1)
	}
	return append(binary.AppendVarint(b, int64(len(v))), v...)
}

// records returns n records at offset deltas 0 to n-1, one millisecond
// apart, valued by their delta.
func records(n int) []testRecord {
	out := make([]testRecord, n)
	for i := range out {
		out[i] = testRecord{offsetDelta: int32(i), timeDelta: int64(i), key: []byte("k"), value: []byte{byte('a' + i)}}
	}
	return out
}

// readAll decodes set as fetched at offset: the records, copied, and the
// error that ended it (nil for io.EOF).
func readAll(set []byte, offset int64) ([]kafka.Message, int64, error) {
	var s recordSet
	s.reset(set, offset)
	var out []kafka.Message
	for {
		var m kafka.Message
		err := s.next(&m)
		if err == io.EOF {
			return out, s.nextOffset(), nil
		}
		if err != nil {
			return out, s.nextOffset(), err
		}
		m.Key, m.Value = bytes.Clone(m.Key), bytes.Clone(m.Value)
		out = append(out, m)
	}
}

func offsetsOf(msgs []kafka.Message) []int64 {
	out := make([]int64, len(msgs))
	for i, m := range msgs {
		out[i] = m.Offset
	}
	return out
}

// TestRecordSetBatchKinds: control batches hand nothing out but move the
// next offset past them; under LogAppendTime every record has the batch's
// max timestamp, otherwise its own; records before the fetch offset are
// skipped, as are records' headers; null and empty keys stay apart.
func TestRecordSetBatchKinds(t *testing.T) {
	const t0 = 1_700_000_000_000
	plain := testBatch{base: 10, lastOffsetDelta: 2, baseTime: t0, maxTime: t0 + 2, records: []testRecord{
		{offsetDelta: 0, timeDelta: 0, key: nil, value: []byte("a"), headers: 2},
		{offsetDelta: 1, timeDelta: -5, key: []byte{}, value: nil},
		{offsetDelta: 2, timeDelta: 2, key: []byte("k"), value: []byte("c"), headers: 1},
	}}
	control := testBatch{base: 13, attributes: batchControl | 1<<4, baseTime: t0, maxTime: t0,
		records: []testRecord{{key: []byte{0, 0, 0, 0}, value: []byte{0, 0, 0, 0, 0, 0}}}}
	logAppend := testBatch{base: 14, attributes: batchLogAppendTime, lastOffsetDelta: 1, baseTime: t0, maxTime: t0 + 99, records: records(2)}
	set := bytes.Join([][]byte{plain.bytes(), control.bytes(), logAppend.bytes()}, nil)

	got, next, err := readAll(set, 11)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		offset, time int64
		key, value   []byte
	}{
		{11, t0 - 5, []byte{}, nil},
		{12, t0 + 2, []byte("k"), []byte("c")},
		{14, t0 + 99, []byte("k"), []byte("a")},
		{15, t0 + 99, []byte("k"), []byte("b")},
	}
	if len(got) != len(want) {
		t.Fatalf("offsets %v, want 11, 12, 14, 15", offsetsOf(got))
	}
	for i, w := range want {
		g := got[i]
		if g.Offset != w.offset || g.Time.UnixMilli() != w.time || !bytes.Equal(g.Key, w.key) || (g.Key == nil) != (w.key == nil) || !bytes.Equal(g.Value, w.value) {
			t.Errorf("record %d = offset %d, time %d, key %q, value %q; want %d, %d, %q, %q", i, g.Offset, g.Time.UnixMilli(), g.Key, g.Value, w.offset, w.time, w.key, w.value)
		}
	}
	if next != 16 {
		t.Errorf("next offset %d, want 16", next)
	}

	// A set that ends with a control batch, or with a batch whose last
	// records a compaction removed, still moves the next fetch past it.
	compacted := testBatch{base: 16, lastOffsetDelta: 9, baseTime: t0, maxTime: t0, records: records(3)}
	for _, tail := range []testBatch{control, compacted} {
		got, next, err := readAll(bytes.Join([][]byte{plain.bytes(), tail.bytes()}, nil), 0)
		end := tail.base + int64(tail.lastOffsetDelta) + 1
		if err != nil || next != end {
			t.Errorf("a set ending with a batch at %d (attributes %#x): next offset %d, %v; want %d", tail.base, tail.attributes, next, err, end)
		}
		if wantN := 3 + len(tail.records)*int(1-tail.attributes>>5&1); len(got) != wantN {
			t.Errorf("a set ending with a batch at %d (attributes %#x): offsets %v", tail.base, tail.attributes, offsetsOf(got))
		}
	}
}

// TestRecordSetBrokenData: a flipped byte, a batch of message format v1,
// a bad length, an unknown codec and records that overrun their batch are
// errors that name the batch's offset, and end the set; the records before
// the broken one are read.
func TestRecordSetBrokenData(t *testing.T) {
	good := testBatch{base: 100, lastOffsetDelta: 2, records: records(3)}.bytes()
	resign := func(b []byte) []byte {
		binary.BigEndian.PutUint32(b[batchCRCAt:], crc32.Checksum(b[batchAttributesAt:], castagnoli))
		return b
	}
	cases := []struct {
		name   string
		batch  func() []byte
		want   string
		before int // records read before the error: the good batch's, and any of this one's before the break
	}{
		{"flipped value byte", func() []byte { b := testBatch{base: 200, records: records(3)}.bytes(); b[len(b)-2] ^= 0x40; return b }, "CRC-32C", 3},
		{"flipped attributes", func() []byte {
			b := testBatch{base: 200, records: records(3)}.bytes()
			b[batchAttributesAt+1] ^= 1
			return b
		}, "CRC-32C", 3},
		{"message format v1", func() []byte { b := testBatch{base: 200, records: records(3)}.bytes(); b[batchMagicAt] = 1; return b }, "message format v1: only v2 is supported", 3},
		{"length below a header", func() []byte {
			b := testBatch{base: 200, records: records(3)}.bytes()
			binary.BigEndian.PutUint32(b[batchLengthAt:], 20)
			return b
		}, "batch length 20", 3},
		{"unknown codec", func() []byte {
			b := testBatch{base: 200, records: records(3)}.bytes()
			b[batchAttributesAt+1] = 6
			return resign(b)
		}, "unknown compression codec 6", 3},
		{"more records than bytes", func() []byte {
			b := testBatch{base: 200, records: records(3)}.bytes()
			binary.BigEndian.PutUint32(b[batchCountAt:], 4)
			return resign(b)
		}, "bad record length", 6},
		{"negative record count", func() []byte {
			b := testBatch{base: 200, records: records(3)}.bytes()
			binary.BigEndian.PutUint32(b[batchCountAt:], ^uint32(0))
			return resign(b)
		}, "record count -1", 3},
		{"key longer than its record", func() []byte {
			return testBatch{base: 200, records: records(1), compress: func(r []byte) []byte {
				r[4] = 40 // the key's length (zigzag 20) in the only record
				return r
			}}.bytes()
		}, "bad record key", 3},
		{"corrupt lz4", func() []byte {
			return testBatch{base: 200, attributes: codecLz4, records: records(3), compress: func(r []byte) []byte { return r }}.bytes()
		}, "not an lz4 frame", 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			set := append(append([]byte(nil), good...), c.batch()...)
			set = append(set, good...)
			got, _, err := readAll(set, 0)
			if err == nil || !strings.Contains(err.Error(), "record batch at offset 200") || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one about the batch at offset 200 saying %q", err, c.want)
			}
			if len(got) != c.before {
				t.Errorf("%d records before the error, want %d", len(got), c.before)
			}
		})
	}
}

// TestRecordSetTruncated: the broker cuts the last batch of a response at
// the fetch's byte limit. Cut anywhere, a record set yields the records of
// its complete batches, then io.EOF.
func TestRecordSetTruncated(t *testing.T) {
	var set []byte
	var ends []int
	for i := range 4 {
		set = append(set, testBatch{base: int64(3 * i), lastOffsetDelta: 2, records: records(3)}.bytes()...)
		ends = append(ends, len(set))
	}
	for cut := range len(set) {
		complete := 0
		for complete < len(ends) && ends[complete] <= cut {
			complete++
		}
		got, next, err := readAll(set[:cut], 0)
		if err != nil || len(got) != 3*complete || next != int64(3*complete) {
			t.Fatalf("cut at %d of %d: %d records, next offset %d, %v; want %d, %d, io.EOF", cut, len(set), len(got), next, err, 3*complete, 3*complete)
		}
	}
}

// TestRecordSetAllocates nothing per record, whatever the codec, once its
// buffers have grown.
func TestRecordSetAllocates(t *testing.T) {
	for _, c := range testCompressors(t) {
		t.Run(c.name, func(t *testing.T) {
			if raceDetector && c.codec == codecZstd {
				t.Skip("zstd's decoder pools its buffers, and -race makes sync.Pool drop them")
			}
			set := testBatch{base: 0, attributes: c.codec, lastOffsetDelta: 499, records: records(500), compress: c.compress}.bytes()
			var s recordSet
			var m kafka.Message
			read := func() {
				s.reset(set, 0)
				for s.next(&m) == nil {
				}
			}
			read()
			if n := steadyAllocs(100, read); n != 0 {
				t.Errorf("%v allocations per batch of 500 records", n)
			}
			if m.Offset != 499 || m.Time.UnixMilli() != 499 {
				t.Errorf("last record at offset %d, time %d", m.Offset, m.Time.UnixMilli())
			}
		})
	}
}

// steadyAllocs is the fewest allocations per call of f over three
// measurements of testing.AllocsPerRun(runs, f). AllocsPerRun counts every
// allocation in the process, and a goroutine left by an earlier test can
// allocate meanwhile (once in CI under -race: "1 allocations per batch",
// never in 200 runs of the test alone); an allocation f makes itself is in
// every measurement.
func steadyAllocs(runs int, f func()) float64 {
	fewest := testing.AllocsPerRun(runs, f)
	for range 2 {
		fewest = min(fewest, testing.AllocsPerRun(runs, f))
	}
	return fewest
}
