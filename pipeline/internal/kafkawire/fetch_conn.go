package kafkawire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"time"

	"github.com/segmentio/kafka-go"
)

// fetchConn fetches one partition over a plain connection to its leader
// and decodes each response where it lies.
//
// Why not kafka-go's Conn.ReadBatch: its Batch.ReadMessage allocates a key
// and a value per message, sets a socket deadline per message, copies
// through bufio and verifies each lz4 frame's checksum. Over 5M events that
// was a third of the process's CPU, of which only a fifth was decompressing.
// Here a fetch is one write and a read of the whole response into a buffer
// kept across fetches, and next hands out records that point into it.
type fetchConn struct {
	conn      net.Conn
	topic     string
	partition int32
	id        int32 // correlation id of the last request
	size      [4]byte
	req, resp []byte // kept across fetches
	records   recordSet
	highWater int64 // of the last fetch; -1 before the first
}

const (
	clientID = "cohortline"

	// fetchVersion is the Fetch API version sent: v4 is the first that
	// carries message format v2 record batches and an isolation level,
	// and brokers from 0.11 to 4.x as well as kfake take it.
	fetchVersion = 4
	apiKeyFetch  = 1

	// fetchSizeLimit bounds a fetch response, and what any one batch of it
	// decompresses to, so that a broken length cannot take all the memory.
	fetchSizeLimit = 256 << 20
)

func newFetchConn(conn net.Conn, topic string, partition int) *fetchConn {
	return &fetchConn{conn: conn, topic: topic, partition: int32(partition), highWater: -1}
}

// close closes the connection and releases the decoders.
func (f *fetchConn) close() error {
	f.records.codecs.close()
	return f.conn.Close()
}

// fetch asks the leader for the partition's records from offset, waiting up
// to maxWait for minBytes of them and taking at most maxBytes (the broker
// still sends a first batch larger than that), and reads the whole
// response: next then reads its records without any I/O. The caller sets
// the connection's deadline. A partition error of the broker comes back as
// a kafka.Error, so errors.Is(err, kafka.OffsetOutOfRange) holds.
func (f *fetchConn) fetch(offset int64, maxWait time.Duration, minBytes, maxBytes int32) error {
	f.records.reset(nil, offset)
	f.id++
	f.req = f.appendRequest(f.req[:0], offset, maxWait, minBytes, maxBytes)
	if _, err := f.conn.Write(f.req); err != nil {
		return fmt.Errorf("sending a fetch request: %w", err)
	}
	if _, err := io.ReadFull(f.conn, f.size[:]); err != nil {
		return fmt.Errorf("reading a fetch response: %w", err)
	}
	if tlsRecord(f.size[:]) {
		return errTLSListener
	}
	size := int64(int32(binary.BigEndian.Uint32(f.size[:])))
	if size < 4 || size > fetchSizeLimit {
		return fmt.Errorf("fetch response of %d bytes: outside [4, %d]", size, fetchSizeLimit)
	}
	f.resp = slices.Grow(f.resp[:0], int(size))[:size]
	if _, err := io.ReadFull(f.conn, f.resp); err != nil {
		return fmt.Errorf("reading a fetch response of %d bytes: %w", size, err)
	}
	records, err := f.parse()
	if err != nil {
		return err
	}
	f.records.reset(records, offset)
	return nil
}

// appendRequest appends a Fetch v4 request, with request header v1, for
// the partition at offset, read_uncommitted as kafka-go's Conn reads.
func (f *fetchConn) appendRequest(b []byte, offset int64, maxWait time.Duration, minBytes, maxBytes int32) []byte {
	be := binary.BigEndian
	b = be.AppendUint32(b, 0) // size, set below
	b = be.AppendUint16(b, apiKeyFetch)
	b = be.AppendUint16(b, fetchVersion)
	b = be.AppendUint32(b, uint32(f.id))
	b = appendString(b, clientID)
	b = be.AppendUint32(b, ^uint32(0)) // replica_id -1: a consumer
	b = be.AppendUint32(b, uint32(maxWait.Milliseconds()))
	b = be.AppendUint32(b, uint32(minBytes))
	b = be.AppendUint32(b, uint32(maxBytes))
	b = append(b, 0)             // isolation_level: read_uncommitted
	b = be.AppendUint32(b, 1)    // topics
	b = appendString(b, f.topic) // topic
	b = be.AppendUint32(b, 1)    // partitions
	b = be.AppendUint32(b, uint32(f.partition))
	b = be.AppendUint64(b, uint64(offset))
	b = be.AppendUint32(b, uint32(maxBytes)) // partition_max_bytes
	be.PutUint32(b, uint32(len(b)-4))
	return b
}

// errTLSListener is a plaintext client's error on a TLS listener, which
// answers a request it cannot read with a TLS alert.
var errTLSListener = errors.New("the broker answered with a TLS record: this listener speaks TLS, and the client is configured for plaintext")

// tlsRecord reports whether a response's first bytes are a TLS record
// header (an alert or a handshake, version 3.x) rather than a size: no
// response of Kafka's is 350 MB long.
func tlsRecord(b []byte) bool { return (b[0] == 0x15 || b[0] == 0x16) && b[1] == 0x03 }

func appendString(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
	return append(b, s...)
}

// parse reads the response in f.resp and returns the partition's record
// set.
func (f *fetchConn) parse() ([]byte, error) {
	w := wire{b: f.resp}
	if id := w.int32(); id != f.id {
		return nil, fmt.Errorf("fetch response has correlation id %d, the request %d", id, f.id)
	}
	w.int32() // throttle_time_ms: a v4 broker throttles by answering late
	var (
		found     bool
		errorCode int16
		highWater int64
		records   []byte
	)
	for topics := w.int32(); topics > 0 && !w.short; topics-- {
		topic := w.bytes(int(w.int16()))
		for partitions := w.int32(); partitions > 0 && !w.short; partitions-- {
			partition, code, hw := w.int32(), w.int16(), w.int64()
			w.int64()                            // last_stable_offset: read_uncommitted reads past it
			w.bytes(16 * max(int(w.int32()), 0)) // aborted transactions: read_uncommitted keeps their records
			set := w.bytes(int(w.int32()))
			if string(topic) == f.topic && partition == f.partition {
				found, errorCode, highWater, records = true, code, hw, set
			}
		}
	}
	switch {
	case w.short:
		return nil, fmt.Errorf("fetch response of %d bytes is truncated", len(f.resp))
	case !found:
		return nil, fmt.Errorf("fetch response has no partition %s/%d", f.topic, f.partition)
	case errorCode != 0:
		return nil, kafka.Error(errorCode)
	}
	f.highWater = highWater
	return records, nil
}

// wire reads the big-endian fields of a response. Reading past the end
// sets short and reads zeros, so that a parser checks once, at the end.
type wire struct {
	b     []byte
	short bool
}

// bytes returns the next n bytes; nil for a negative n (a null).
func (w *wire) bytes(n int) []byte {
	if n > len(w.b) {
		w.short, w.b = true, nil
	}
	if n < 0 || w.short {
		return nil
	}
	b := w.b[:n:n]
	w.b = w.b[n:]
	return b
}

func (w *wire) int16() int16 {
	if b := w.bytes(2); b != nil {
		return int16(binary.BigEndian.Uint16(b))
	}
	return 0
}

func (w *wire) int32() int32 {
	if b := w.bytes(4); b != nil {
		return int32(binary.BigEndian.Uint32(b))
	}
	return 0
}

func (w *wire) int64() int64 {
	if b := w.bytes(8); b != nil {
		return int64(binary.BigEndian.Uint64(b))
	}
	return 0
}

// next fills m with the next record of the last fetch, io.EOF after the
// last. m.Key and m.Value point into buffers that the next fetch reuses.
func (f *fetchConn) next(m *kafka.Message) error {
	if err := f.records.next(m); err != nil {
		return err
	}
	m.Topic, m.Partition, m.HighWaterMark, m.Headers = f.topic, int(f.partition), f.highWater, nil
	return nil
}

// nextOffset is where the next fetch starts once next returned io.EOF; see
// recordSet.nextOffset.
func (f *fetchConn) nextOffset() int64 { return f.records.nextOffset() }
