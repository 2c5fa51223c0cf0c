package kafkawire

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// fetchFrom runs one fetch of partition t/0 at offset 5 against a peer
// that reads the request and answers with respond's bytes, and returns the
// request the peer read (decoded by franz-go's kmsg, an implementation of
// the protocol independent of ours) and the fetch's error.
func fetchFrom(t *testing.T, respond func(id int32) []byte) (*fetchConn, *kmsg.FetchRequest, error) {
	t.Helper()
	client, server := net.Pipe()
	f := newFetchConn(client, "t", 0)
	t.Cleanup(func() { f.close() })
	reqs := make(chan *kmsg.FetchRequest, 1)
	go func() {
		defer server.Close()
		var size [4]byte
		if _, err := io.ReadFull(server, size[:]); err != nil {
			reqs <- nil
			return
		}
		b := make([]byte, binary.BigEndian.Uint32(size[:]))
		if _, err := io.ReadFull(server, b); err != nil {
			reqs <- nil
			return
		}
		req := kmsg.NewPtrFetchRequest()
		req.Version = int16(binary.BigEndian.Uint16(b[2:]))
		id := int32(binary.BigEndian.Uint32(b[4:]))
		clientLen := int(binary.BigEndian.Uint16(b[8:]))
		if binary.BigEndian.Uint16(b) != apiKeyFetch || string(b[10:10+clientLen]) != clientID || req.ReadFrom(b[10+clientLen:]) != nil {
			req = nil
		}
		reqs <- req
		server.Write(respond(id))
	}()
	err := f.fetch(5, 10*time.Millisecond, 1, 1<<20)
	return f, <-reqs, err
}

// fetchResponse frames a Fetch v4 response to request id, edited by edit,
// whose partition t/0 holds set.
func fetchResponse(id int32, set []byte, edit func(*kmsg.FetchResponse)) []byte {
	resp := kmsg.NewPtrFetchResponse()
	resp.Version = fetchVersion
	topic := kmsg.NewFetchResponseTopic()
	topic.Topic = "t"
	p := kmsg.NewFetchResponseTopicPartition()
	p.HighWatermark, p.LastStableOffset, p.RecordBatches = 9, 7, set
	for i := range 2 {
		at := kmsg.NewFetchResponseTopicPartitionAbortedTransaction()
		at.ProducerID, at.FirstOffset = int64(i), int64(i)
		p.AbortedTransactions = append(p.AbortedTransactions, at)
	}
	topic.Partitions = append(topic.Partitions, p)
	resp.Topics = append(resp.Topics, topic)
	if edit != nil {
		edit(resp)
	}
	body := binary.BigEndian.AppendUint32(nil, uint32(id))
	body = resp.AppendTo(body)
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...)
}

// TestFetchConnRequestAndResponse: the request is the Fetch v4 that
// another implementation reads back field for field, and the response's
// records come out with the partition's high-water mark, past the
// aborted transactions the response lists.
func TestFetchConnRequestAndResponse(t *testing.T) {
	set := testBatch{base: 4, lastOffsetDelta: 2, baseTime: 1000, maxTime: 1002, records: records(3)}.bytes()
	f, req, err := fetchFrom(t, func(id int32) []byte { return fetchResponse(id, set, nil) })
	if err != nil {
		t.Fatal(err)
	}
	if req == nil || req.Version != 4 || req.ReplicaID != -1 || req.MaxWaitMillis != 10 || req.MinBytes != 1 || req.MaxBytes != 1<<20 ||
		req.IsolationLevel != 0 || len(req.Topics) != 1 || req.Topics[0].Topic != "t" || len(req.Topics[0].Partitions) != 1 {
		t.Fatalf("request %+v", req)
	}
	if p := req.Topics[0].Partitions[0]; p.Partition != 0 || p.FetchOffset != 5 || p.PartitionMaxBytes != 1<<20 {
		t.Fatalf("request partition %+v", p)
	}
	var m kafka.Message
	for _, want := range []int64{5, 6} { // 4 is before the fetch offset
		if err := f.next(&m); err != nil || m.Offset != want || m.Topic != "t" || m.Partition != 0 || m.HighWaterMark != 9 ||
			string(m.Value) != string(rune('a'+want-4)) || m.Time.UnixMilli() != 1000+want-4 {
			t.Fatalf("next = %+v, %v; want offset %d", m, err, want)
		}
	}
	if err := f.next(&m); err != io.EOF {
		t.Fatalf("next after the last record = %v, want io.EOF", err)
	}
}

// TestFetchConnBadResponses: every response that is not the partition's
// answer to this request is an error, never a panic; the broker's error
// code is a kafka.Error.
func TestFetchConnBadResponses(t *testing.T) {
	set := testBatch{base: 5, records: records(1)}.bytes()
	frame := func(id int32) []byte { return fetchResponse(id, set, nil) }
	cases := []struct {
		name    string
		respond func(id int32) []byte
		want    string
	}{
		{"another correlation id", func(id int32) []byte { return frame(id + 1) }, "correlation id"},
		{"fields cut short", func(id int32) []byte {
			b := frame(id)[:30]
			binary.BigEndian.PutUint32(b, 26)
			return b
		}, "truncated"},
		{"record set longer than the response", func(id int32) []byte {
			b := frame(id)
			binary.BigEndian.PutUint32(b[len(b)-len(set)-4:], uint32(len(set)+1))
			return b
		}, "truncated"},
		{"connection closed mid-response", func(id int32) []byte { b := frame(id); return b[:len(b)-3] }, "unexpected EOF"},
		{"no response", func(int32) []byte { return nil }, "EOF"},
		{"size over the limit", func(int32) []byte { return binary.BigEndian.AppendUint32(nil, fetchSizeLimit+1) }, "outside"},
		{"negative size", func(int32) []byte { return binary.BigEndian.AppendUint32(nil, ^uint32(0)) }, "outside"},
		{"another partition", func(id int32) []byte {
			return fetchResponse(id, set, func(r *kmsg.FetchResponse) { r.Topics[0].Partitions[0].Partition = 1 })
		}, "no partition t/0"},
		{"another topic", func(id int32) []byte {
			return fetchResponse(id, set, func(r *kmsg.FetchResponse) { r.Topics[0].Topic = "u" })
		}, "no partition t/0"},
		{"broker error", func(id int32) []byte {
			return fetchResponse(id, nil, func(r *kmsg.FetchResponse) { r.Topics[0].Partitions[0].ErrorCode = 1 })
		}, kafka.OffsetOutOfRange.Error()},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, _, err := fetchFrom(t, c.respond)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("fetch = %v, want an error saying %q", err, c.want)
			}
			if c.name == "broker error" && !errors.Is(err, kafka.OffsetOutOfRange) {
				t.Errorf("%v is not kafka.OffsetOutOfRange", err)
			}
			if err := f.next(&kafka.Message{}); err != io.EOF {
				t.Errorf("next after a failed fetch = %v, want io.EOF", err)
			}
		})
	}
}
