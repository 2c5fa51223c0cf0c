package kafkawire

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/cohortline/cohortline/deploy/devenv"
)

// TestPartitionReader reads a real broker's partition the way the consumer
// does: every message once and in order, across a handler slower than the
// fetch wait (the response is read whole before it runs), a handler error
// (the failed message is offered again), an idle fetch, and a cancelled
// context.
func TestPartitionReader(t *testing.T) {
	addr := devenv.Kafka(t)
	ctx := t.Context()
	topic := singlePartitionTopic(t, addr, 3000)

	r := NewPartitionReader(nil, []string{addr}, topic, 0, kafka.FirstOffset)
	defer r.Close()
	var got []int64
	failAt, slowAt := int64(1500), int64(700)
	failed := false
	handle := func(m kafka.Message) error {
		if m.Offset == slowAt {
			time.Sleep(2 * r.maxWait)
		}
		if m.Offset == failAt && !failed {
			failed = true
			return errors.New("sink down")
		}
		if want := strconv.FormatInt(m.Offset, 10); string(m.Value) != want {
			t.Fatalf("offset %d has value %q, want %q", m.Offset, m.Value, want)
		}
		got = append(got, m.Offset)
		return nil
	}
	var handlerErrs int
	for len(got) < 3000 {
		_, err := r.Fetch(ctx, handle)
		var herr HandlerError
		switch {
		case errors.As(err, &herr):
			handlerErrs++
			if r.offset != failAt {
				t.Fatalf("after a handler error at offset %d the reader is at %d", failAt, r.offset)
			}
		case err != nil:
			t.Fatalf("fetch at offset %d: %v", r.offset, err)
		}
	}
	for i, off := range got {
		if off != int64(i) {
			t.Fatalf("message %d has offset %d: not every message once and in order", i, off)
		}
	}
	if handlerErrs != 1 {
		t.Errorf("%d handler errors, want 1", handlerErrs)
	}
	if lag := r.Lag(); lag != 0 {
		t.Errorf("lag at the end of the partition = %d, want 0", lag)
	}

	start := time.Now()
	n, err := r.Fetch(ctx, handle)
	if err != nil || n != 0 {
		t.Errorf("fetch at the end = %d messages, %v; want 0, nil (idle)", n, err)
	}
	if waited := time.Since(start); waited > 10*r.maxWait {
		t.Errorf("an idle fetch took %s, the fetch wait is %s", waited, r.maxWait)
	}

	r.maxWait = time.Minute // a fetch that would block for a minute
	cctx, cancel := context.WithCancel(ctx)
	time.AfterFunc(100*time.Millisecond, cancel)
	start = time.Now()
	if _, err := r.Fetch(cctx, handle); !errors.Is(err, context.Canceled) {
		t.Errorf("fetch after cancel = %v, want context.Canceled", err)
	}
	if waited := time.Since(start); waited > 5*time.Second {
		t.Errorf("a cancelled fetch returned after %s", waited)
	}
}

// singlePartitionTopic creates a fresh one-partition topic holding n
// messages whose values are their offsets.
func singlePartitionTopic(t *testing.T, addr string, n int) string {
	t.Helper()
	topic := fmt.Sprintf("it-reader-%d", time.Now().UnixNano())
	createTestTopic(t, addr, topic)
	w := &kafka.Writer{Addr: kafka.TCP(addr), Topic: topic, BatchSize: 1000, BatchTimeout: 10 * time.Millisecond, Compression: kafka.Lz4,
		RequiredAcks: kafka.RequireAll} // the default, acks=0, returns before the log has them
	msgs := make([]kafka.Message, n)
	for i := range msgs {
		msgs[i] = kafka.Message{Key: []byte("k"), Value: []byte(strconv.Itoa(i))}
	}
	if err := w.WriteMessages(t.Context(), msgs...); err != nil {
		t.Fatalf("producing %d messages: %v", n, err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return topic
}

// TestFetchConnMatchesKafkaGoOnBroker is TestFetchConnMatchesKafkaGo on the
// real broker, which, unlike kfake, cuts a response's last batch at the
// fetch's byte limit.
func TestFetchConnMatchesKafkaGoOnBroker(t *testing.T) {
	addr := devenv.Kafka(t)
	for _, c := range testCodecs {
		t.Run(c.name, func(t *testing.T) {
			topic := fmt.Sprintf("it-codec-%s-%d", c.name, time.Now().UnixNano())
			createTestTopic(t, addr, topic)
			compareWithKafkaGo(t, addr, topic, produceCodecMessages(t, addr, topic, c.codec))
		})
	}
}
