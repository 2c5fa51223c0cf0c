package kafkawire

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/cohortline/cohortline/pipeline/pipelinetest"
)

// BenchmarkFetchDecode reads a partition of generated events (synth's
// default mix, ~50k messages), compressed with each codec, through
// fetchConn and through kafka-go's Conn.ReadBatch and Batch.ReadMessage,
// 4 MiB fetches both. One op is one message: ns/op is the time per
// message, allocs/op the allocations per message, MB/s counts keys and
// values. A proxy replays kfake's responses, so the figures are the
// client's reading alone (the socket included), not the broker's work.
//
//	go test -run '^$' -bench FetchDecode -benchtime 2000000x ./pipeline/internal/kafkawire/
func BenchmarkFetchDecode(b *testing.B) {
	msgs := pipelinetest.BenchMessages(b)[:50_000]
	var size int64
	for _, m := range msgs {
		size += int64(len(m.Key) + len(m.Value))
	}
	cluster, topics := codecCluster(b, "bench-")
	defer cluster.Close()
	proxy := newReplayProxy(b, cluster.ListenAddrs()[0])
	for i, c := range testCodecs {
		topic := topics[i]
		kafkaTopic := func() string { // produced on first use: -bench may pick a few
			produceOnce(b, cluster.ListenAddrs()[0], topic, c.codec, msgs)
			return topic
		}
		end := int64(len(msgs))
		b.Run(c.name+"/fetchConn", func(b *testing.B) {
			benchReads(b, size/end, end, newFetchConnReader(b, proxy.addr(), kafkaTopic()))
		})
		b.Run(c.name+"/kafka-go", func(b *testing.B) {
			benchReads(b, size/end, end, newKafkaGoReader(b, proxy.addr(), kafkaTopic()))
		})
	}
}

// benchReads runs b.N reads of a message, passing over the partition once
// untimed first so that the proxy has every response.
func benchReads(b *testing.B, msgSize, end int64, read func(offset int64) int64) {
	for offset := int64(0); offset < end; {
		offset = read(offset)
	}
	b.SetBytes(msgSize)
	b.ReportAllocs()
	b.ResetTimer()
	offset := int64(0)
	for range b.N {
		if offset >= end {
			offset = 0
		}
		offset = read(offset)
	}
}

// newFetchConnReader returns a function that reads one message at offset
// with fetchConn, fetching when the last fetch has none left, and returns
// the next offset.
func newFetchConnReader(b *testing.B, addr, topic string) func(int64) int64 {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	return fetchConnReader(b, conn, topic)
}

// fetchConnReader is newFetchConnReader on a connection made already (a
// TLS one: BenchmarkFetchDecodeTLS).
func fetchConnReader(b *testing.B, conn net.Conn, topic string) func(int64) int64 {
	f := newFetchConn(conn, topic, 0)
	b.Cleanup(func() { f.close() })
	var m kafka.Message
	return func(offset int64) int64 {
		for {
			err := f.next(&m)
			if err == nil && m.Offset == offset {
				return offset + 1
			}
			if err != nil && err != io.EOF {
				b.Fatal(err)
			}
			if err == nil {
				continue // a pass started over at 0
			}
			conn.SetDeadline(time.Now().Add(10 * time.Second))
			if err := f.fetch(offset, time.Second, 1, 4<<20); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// newKafkaGoReader is newFetchConnReader with kafka-go's Conn, as the
// pipeline read before fetchConn.
func newKafkaGoReader(b *testing.B, addr, topic string) func(int64) int64 {
	raw, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	conn := kafka.NewConnWith(raw, kafka.ConnConfig{ClientID: clientID, Topic: topic})
	b.Cleanup(func() { conn.Close() })
	var batch *kafka.Batch
	return func(offset int64) int64 {
		for {
			if batch != nil {
				m, err := batch.ReadMessage()
				if err == nil && m.Offset == offset {
					return offset + 1
				}
				if err == nil {
					continue
				}
				if err := batch.Close(); err != nil && !errors.Is(err, kafka.RequestTimedOut) {
					b.Fatal(err)
				}
			}
			if _, err := conn.Seek(offset, kafka.SeekAbsolute|kafka.SeekDontCheck); err != nil {
				b.Fatal(err)
			}
			conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			batch = conn.ReadBatchWith(kafka.ReadBatchConfig{MinBytes: 1, MaxBytes: 4 << 20, MaxWait: time.Second})
		}
	}
}

var produced sync.Map // topic → true

// produceOnce writes msgs to topic, compressed with codec, unless done.
func produceOnce(b *testing.B, addr, topic string, codec kafka.Compression, msgs []kafka.Message) {
	if _, done := produced.Load(topic); done {
		return
	}
	w := &kafka.Writer{Addr: kafka.TCP(addr), Topic: topic, Compression: codec,
		BatchSize: 1000, BatchTimeout: time.Millisecond, RequiredAcks: kafka.RequireAll}
	out := make([]kafka.Message, len(msgs))
	for i, m := range msgs {
		out[i] = kafka.Message{Key: m.Key, Value: m.Value}
	}
	if err := w.WriteMessages(b.Context(), out...); err != nil {
		b.Fatalf("producing to %s: %v", topic, err)
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	produced.Store(topic, true)
}

// replayProxy stands between clients and a broker, and answers a request
// it has seen before (the same bytes but for the correlation id) with the
// broker's response to it: reads through it time the client, not the
// broker.
type replayProxy struct {
	ln       net.Listener
	upstream string
	mu       sync.Mutex
	cache    map[string][]byte // request without correlation id → response
}

func newReplayProxy(tb testing.TB, upstream string) *replayProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p := &replayProxy{ln: ln, upstream: upstream, cache: map[string][]byte{}}
	tb.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.relay(c)
		}
	}()
	return p
}

func (p *replayProxy) addr() string { return p.ln.Addr().String() }

// relay serves one client connection until it closes.
func (p *replayProxy) relay(c net.Conn) {
	defer c.Close()
	var up net.Conn // the broker, dialed on the first request not in the cache
	defer func() {
		if up != nil {
			up.Close()
		}
	}()
	var req, key []byte
	head := make([]byte, 8) // a response's size, and the request's correlation id
	for {
		var err error
		if req, err = readFrame(c, req[:0]); err != nil {
			return
		}
		key = append(append(key[:0], req[4:8]...), req[12:]...) // api key and version, body
		p.mu.Lock()
		resp, ok := p.cache[string(key)]
		p.mu.Unlock()
		if !ok {
			if up == nil {
				if up, err = net.Dial("tcp", p.upstream); err != nil {
					return
				}
			}
			if _, err := up.Write(req); err != nil {
				return
			}
			if resp, err = readFrame(up, nil); err != nil {
				return
			}
			p.mu.Lock()
			p.cache[string(key)] = resp
			p.mu.Unlock()
		}
		copy(head, resp[:4])
		copy(head[4:], req[8:12])
		if _, err := c.Write(head); err != nil {
			return
		}
		if _, err := c.Write(resp[8:]); err != nil {
			return
		}
	}
}

// readFrame reads a size-prefixed frame, its size included, into buf.
func readFrame(r io.Reader, buf []byte) ([]byte, error) {
	buf = slices.Grow(buf[:0], 4)[:4]
	if _, err := io.ReadFull(r, buf); err != nil {
		return buf, err
	}
	n := 4 + int(binary.BigEndian.Uint32(buf))
	buf = slices.Grow(buf, n)[:n]
	_, err := io.ReadFull(r, buf[4:])
	return buf, err
}
