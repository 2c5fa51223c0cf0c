package kafkawire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"time"

	"github.com/segmentio/kafka-go"
)

// The record batch header of message format v2 (magic 2), by byte offset.
// batchLength counts the bytes after its own field; the CRC covers
// attributes to the end of the batch.
const (
	batchLengthAt     = 8
	batchMagicAt      = 16
	batchCRCAt        = 17
	batchAttributesAt = 21
	batchLastDeltaAt  = 23
	batchBaseTimeAt   = 27
	batchMaxTimeAt    = 35
	batchCountAt      = 57
	batchHeaderSize   = 61
)

// Bits of a batch's attributes besides the codec (attributes & 7).
const (
	batchLogAppendTime = 1 << 3 // the broker's time: maxTimestamp is every record's
	batchControl       = 1 << 5 // transaction markers, never handed to a handler
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// recordSet decodes the record batches of one fetched partition, one record
// at a time, without allocating: a record's key and value alias the fetch
// response (codec none) or the decompression buffer, both reused by the
// next fetch.
type recordSet struct {
	data   []byte // the record set after the current batch
	offset int64  // the fetch offset: records before it are skipped
	end    int64  // offset after the last batch begun; see nextOffset

	// The current batch.
	base      int64 // baseOffset
	time      int64 // baseTimestamp, or maxTimestamp under LogAppendTime
	logAppend bool
	records   []byte // its records not read yet, decompressed
	left      int32  // how many

	codecs decompressor
}

// reset starts decoding data, the record set of a fetch at offset.
func (s *recordSet) reset(data []byte, offset int64) {
	*s = recordSet{data: data, offset: offset, end: offset, codecs: s.codecs}
}

// nextOffset is where the next fetch starts once next returned io.EOF: after
// the last complete batch, which may end with control records or with
// records a compaction removed, none of them handed out.
func (s *recordSet) nextOffset() int64 { return s.end }

// next fills m's Offset, Time, Key and Value with the next record at or
// after the fetch offset. It returns io.EOF after the last complete batch:
// a batch the broker cut at the fetch's byte limit ends the set, as the
// rest of it comes with the next fetch.
func (s *recordSet) next(m *kafka.Message) error {
	for {
		for s.left > 0 {
			s.left--
			if err := s.record(m); err != nil {
				return err
			}
			if m.Offset >= s.offset {
				return nil
			}
		}
		if err := s.nextBatch(); err != nil {
			return err
		}
	}
}

// record decodes one record of the current batch into m. The headers are
// skipped with the rest of the record: its length covers them.
func (s *recordSet) record(m *kafka.Message) error {
	length, n := binary.Varint(s.records)
	if n <= 0 || length < 0 || length > int64(len(s.records)-n) {
		return s.corrupt("bad record length")
	}
	rec := s.records[n : n+int(length)]
	s.records = s.records[n+int(length):]
	if len(rec) == 0 {
		return s.corrupt("empty record")
	}
	i := 1 // after the attributes: none are defined
	timeDelta, n := binary.Varint(rec[i:])
	i += n
	if n <= 0 {
		return s.corrupt("bad record timestamp")
	}
	offsetDelta, n := binary.Varint(rec[i:])
	i += n
	if n <= 0 {
		return s.corrupt("bad record offset")
	}
	key, i, ok := varBytes(rec, i)
	if !ok {
		return s.corrupt("bad record key")
	}
	value, _, ok := varBytes(rec, i)
	if !ok {
		return s.corrupt("bad record value")
	}
	t := s.time
	if !s.logAppend {
		t += timeDelta
	}
	m.Offset, m.Time, m.Key, m.Value = s.base+offsetDelta, time.UnixMilli(t), key, value
	return nil
}

// varBytes reads, from b[i:], a varint length and that many bytes, nil for
// length -1. The slice's capacity ends with it, so a handler appending to a
// key never overwrites the value.
func varBytes(b []byte, i int) ([]byte, int, bool) {
	l, n := binary.Varint(b[i:])
	if n <= 0 || l < -1 || l > int64(len(b)-i-n) {
		return nil, i, false
	}
	i += n
	if l < 0 {
		return nil, i, true
	}
	end := i + int(l)
	return b[i:end:end], end, true
}

// nextBatch makes the next batch with a record at or after the fetch offset
// the current one; io.EOF when there is none.
func (s *recordSet) nextBatch() error {
	for {
		// Magic sits at the same byte in every message format; a set too
		// short to show it, or a batch not all there, is the broker's cut.
		if len(s.data) <= batchMagicAt {
			return io.EOF
		}
		b := s.data
		s.base = int64(binary.BigEndian.Uint64(b))
		if magic := b[batchMagicAt]; magic != 2 {
			return s.fail(fmt.Errorf("message format v%d: only v2 is supported", magic))
		}
		length := int64(int32(binary.BigEndian.Uint32(b[batchLengthAt:])))
		if length < batchHeaderSize-batchLengthAt-4 {
			return s.corrupt(fmt.Sprintf("batch length %d", length))
		}
		if length > int64(len(b)-batchLengthAt-4) {
			return io.EOF
		}
		b = b[:batchLengthAt+4+length]
		s.data = s.data[len(b):]
		if want, got := binary.BigEndian.Uint32(b[batchCRCAt:]), crc32.Checksum(b[batchAttributesAt:], castagnoli); want != got {
			return s.corrupt(fmt.Sprintf("CRC-32C is %#08x, the batch says %#08x", got, want))
		}
		attributes := binary.BigEndian.Uint16(b[batchAttributesAt:])
		s.end = max(s.end, s.base+int64(int32(binary.BigEndian.Uint32(b[batchLastDeltaAt:])))+1)
		if attributes&batchControl != 0 || s.end <= s.offset {
			continue // nothing to hand out: skip it undecompressed
		}
		count := int32(binary.BigEndian.Uint32(b[batchCountAt:]))
		if count < 0 {
			return s.corrupt(fmt.Sprintf("record count %d", count))
		}
		records, err := s.codecs.decompress(attributes&7, b[batchHeaderSize:])
		if err != nil {
			return s.fail(err)
		}
		s.logAppend = attributes&batchLogAppendTime != 0
		s.time = int64(binary.BigEndian.Uint64(b[batchBaseTimeAt:]))
		if s.logAppend {
			s.time = int64(binary.BigEndian.Uint64(b[batchMaxTimeAt:]))
		}
		s.records, s.left = records, count
		return nil
	}
}

// corrupt says what is wrong with the current batch; see fail.
func (s *recordSet) corrupt(what string) error { return s.fail(errors.New(what)) }

// fail ends the set, whose rest cannot be trusted, with err and the
// offset of the batch it is about.
func (s *recordSet) fail(err error) error {
	s.data, s.left = nil, 0
	return fmt.Errorf("record batch at offset %d: %w", s.base, err)
}
