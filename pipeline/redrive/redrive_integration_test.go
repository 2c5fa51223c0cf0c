package redrive

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/cohortline/cohortline/deploy/devenv"
	"github.com/cohortline/cohortline/pipeline"
	"github.com/cohortline/cohortline/schemas"
)

// broker is one test's pair of topics on the real Kafka broker: an input
// topic of 3 partitions and its dead-letter topic of 2.
type broker struct {
	addr, topic, dlq string
}

func newBroker(t *testing.T) *broker {
	t.Helper()
	b := &broker{addr: devenv.Kafka(t), topic: fmt.Sprintf("it-redrive-%d", time.Now().UnixNano())}
	b.dlq = b.topic + ".dlq"
	ctx := t.Context()
	for topic, n := range map[string]int{b.topic: 3, b.dlq: 2} {
		if err := pipeline.EnsureTopic(ctx, nil, b.addr, topic, n); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { pipeline.DeleteTopics(context.Background(), nil, b.addr, b.topic, b.dlq) })
	return b
}

// deadLetter is one dead letter as the pipeline writes it.
type deadLetter struct {
	partition  int // of the dead-letter topic
	reason     schemas.Reason
	origin     position // in the input topic
	elsewhere  bool     // the origin is in another topic (an older deployment's)
	key, value []byte
}

// writeDeadLetters writes dls in order, with the pipeline's headers.
func (b *broker) writeDeadLetters(t *testing.T, dls ...deadLetter) {
	t.Helper()
	w := &kafka.Writer{Addr: kafka.TCP(b.addr), Topic: b.dlq, RequiredAcks: kafka.RequireAll,
		Balancer: kafka.BalancerFunc(func(m kafka.Message, _ ...int) int { p, _ := strconv.Atoi(string(m.Headers[0].Value)); return p })}
	defer w.Close()
	msgs := make([]kafka.Message, len(dls))
	for i, dl := range dls {
		origin := b.topic
		if dl.elsewhere {
			origin += "-v0"
		}
		msgs[i] = kafka.Message{Key: dl.key, Value: dl.value, Headers: []kafka.Header{
			{Key: "test-partition", Value: []byte(strconv.Itoa(dl.partition))},
			{Key: pipeline.HeaderReason, Value: []byte(dl.reason)},
			{Key: pipeline.HeaderTopic, Value: []byte(origin)},
			{Key: pipeline.HeaderPartition, Value: []byte(strconv.Itoa(dl.origin.partition))},
			{Key: pipeline.HeaderOffset, Value: []byte(strconv.FormatInt(dl.origin.offset, 10))},
		}}
	}
	if err := w.WriteMessages(t.Context(), msgs...); err != nil {
		t.Fatal(err)
	}
}

// copies reads the input topic: the re-driven copies by the dead letter
// they name, and how many messages it holds in all.
func (b *broker) copies(t *testing.T) (map[string]kafka.Message, int) {
	t.Helper()
	out, n := map[string]kafka.Message{}, 0
	offs := newOffsets(nil, []string{b.addr}, b.topic, 3)
	ends, err := offs.ends(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for p := range 3 {
		err := readPartition(t.Context(), nil, []string{b.addr}, b.topic, p, 0, ends[p], func(m kafka.Message) {
			n++
			for _, h := range m.Headers {
				if h.Key == HeaderRedrivenFrom {
					if _, dup := out[string(h.Value)]; dup {
						t.Errorf("dead letter %s re-driven twice", h.Value)
					}
					out[string(h.Value)] = m
				}
			}
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out, n
}

func (b *broker) config(reasons []string, r Range, dryRun bool) Config {
	rs, err := ParseReasons(reasons)
	if err != nil {
		panic(err)
	}
	spec := hourly()
	return Config{Brokers: []string{b.addr}, Topic: b.topic, DeadLetterTopic: b.dlq, Reasons: rs, Range: r, DryRun: dryRun, Spec: &spec, MaxFutureSkew: time.Hour}
}

// validEvent is a valid event of user u, now.
func validEvent(u string) []byte {
	return fmt.Appendf(nil, `{"v":1,"id":"e-%s","ts":%d,"user":%q,"kind":"message_sent","peer":"individual","media":"text","n":1,"country":"BR","lang":"pt","age":"25-34","platform":"android"}`,
		u, time.Now().UnixMilli(), u)
}

// TestRedriveKafka writes dead letters of every kind to a real broker's
// dead-letter topic and re-drives them: a dry run writes nothing and
// counts what a run then produces; exactly the chosen reasons and range
// are produced, each once, with the header, the original key and value,
// in the key's murmur2 partition; a second run produces nothing; a copy
// rejected again is not re-driven again; pii_suspected never is; keyed by
// the user token, a key_mismatch dead letter goes to its user's partition.
func TestRedriveKafka(t *testing.T) {
	b := newBroker(t)
	user := func(i int) []byte { return fmt.Appendf(nil, "u_redrive_user_%04d", i) }
	dl := func(p int, reason schemas.Reason, i int, value []byte) deadLetter {
		return deadLetter{partition: p, reason: reason, origin: position{i % 3, int64(i)}, key: user(i), value: value}
	}
	b.writeDeadLetters(t,
		// partition 0: offsets 0-5
		dl(0, schemas.BadValue("category"), 0, validEvent(string(user(0)))),
		deadLetter{partition: 0, reason: schemas.ReasonPIISuspected, origin: position{1, 1}}, // no key, no payload
		dl(0, schemas.ReasonMalformedJSON, 2, []byte(`{"v":1,`)),
		dl(0, schemas.ReasonTSOutOfRange, 3, validEvent(string(user(3)))),
		dl(0, schemas.BadValue("category"), 4, validEvent(string(user(4)))),
		dl(0, schemas.ReasonKeyMismatch, 5, validEvent("u_another_user_0005")),
		// partition 1: offsets 0-2
		dl(1, schemas.BadValue("category"), 6, validEvent(string(user(6)))),
		deadLetter{partition: 1, reason: schemas.ReasonPIISuspected, origin: position{1, 7}},
		dl(1, schemas.ReasonTSOutOfRange, 8, validEvent(string(user(8)))),
	)
	name := func(p, o int) string { return fmt.Sprintf("%s/%d/%d", b.dlq, p, o) }

	// A dry run of bad_value over offsets 0-4 of partition 0: one to
	// produce (0/0), nothing written.
	first := Range{Partitions: []int{0}, ToOffset: 5}
	rep := run(t, b.config([]string{"bad_value", "malformed_json", "ts_out_of_range"}, first, true))
	want := Report{Read: 5, Matched: 4, NoPayload: 1, Produce: 3}
	checkCounts(t, "dry run", rep, want, map[schemas.Reason]int64{schemas.ReasonMalformedJSON: 1})
	if got, n := b.copies(t); n != 0 {
		t.Fatalf("the dry run wrote %d messages to the input topic: %v", n, slices.Collect(maps.Keys(got)))
	}

	// The same for real, but bad_value only.
	rep = run(t, b.config([]string{"bad_value"}, first, false))
	checkCounts(t, "bad_value of 0/0-4", rep, Report{Read: 5, Matched: 2, NoPayload: 1, Produce: 2, Written: 2}, nil)
	got, n := b.copies(t)
	checkCopies(t, got, n, map[string]deadLetter{
		name(0, 0): dl(0, "", 0, nil), name(0, 4): dl(0, "", 4, nil),
	})

	// Again: nothing more. Then the whole topic with every reason.
	rep = run(t, b.config([]string{"bad_value"}, first, false))
	checkCounts(t, "again", rep, Report{Read: 5, Matched: 2, NoPayload: 1, AlreadyRedriven: 2}, nil)
	rep = run(t, b.config(nil, Range{}, false))
	checkCounts(t, "everything", rep, Report{Read: 9, Matched: 7, NoPayload: 2, AlreadyRedriven: 2, Produce: 3, Written: 3},
		map[schemas.Reason]int64{schemas.ReasonMalformedJSON: 1, schemas.ReasonKeyMismatch: 1})
	if rep.Scanned < 2 {
		t.Errorf("scanned %d input messages, want the 2 copies at least", rep.Scanned)
	}
	got, n = b.copies(t)
	expect := map[string]deadLetter{
		name(0, 0): dl(0, "", 0, nil), name(0, 4): dl(0, "", 4, nil), name(0, 3): dl(0, "", 3, nil),
		name(1, 0): dl(1, "", 6, nil), name(1, 2): dl(1, "", 8, nil),
	}
	checkCopies(t, got, n, expect)

	// The pipeline rejects a copy after all (a rule this version lacks):
	// its new dead letter names the copy, and is not re-driven.
	c := got[name(1, 0)]
	b.writeDeadLetters(t, deadLetter{partition: 1, reason: schemas.BadValue("country"), origin: position{c.Partition, c.Offset}, key: c.Key, value: c.Value})
	rep = run(t, b.config(nil, Range{Partitions: []int{1}, FromOffset: 3}, false))
	checkCounts(t, "rejected again", rep, Report{Read: 1, Matched: 1, RejectedAgain: 1}, nil)
	if _, n2 := b.copies(t); n2 != n {
		t.Errorf("the input topic holds %d messages after re-driving a rejected copy, want %d", n2, n)
	}

	// The mis-keying producer is fixed: key_mismatch keyed by the token.
	cfg := b.config([]string{"key_mismatch"}, Range{}, false)
	cfg.KeyByUser = true
	checkCounts(t, "key_mismatch keyed by user", run(t, cfg), Report{Read: 10, Matched: 1, NoPayload: 2, Produce: 1, Written: 1}, nil)
	got, n = b.copies(t)
	expect[name(0, 5)] = deadLetter{key: []byte("u_another_user_0005")}
	checkCopies(t, got, n, expect)
}

// TestRedriveLate: with the pipeline's watermarks, a valid dead letter
// whose window closed is not produced, and counted late. A dead letter of
// another topic's message (no scan of the input topic from its origin)
// is found re-driven all the same: by the copy's timestamp.
func TestRedriveLate(t *testing.T) {
	b := newBroker(t)
	u := "u_redrive_late_0001"
	b.writeDeadLetters(t, deadLetter{partition: 0, reason: schemas.ReasonTSOutOfRange, key: []byte(u), value: validEvent(u), elsewhere: true})
	cfg := b.config(nil, Range{}, false)
	cfg.Watermarks = fixedWatermarks(time.Now().Add(2 * time.Hour).UnixMilli())
	checkCounts(t, "closed", run(t, cfg), Report{Read: 1, Matched: 1, Late: 1, LateChecked: true}, nil)
	cfg.Watermarks = fixedWatermarks(math.MinInt64)
	checkCounts(t, "open", run(t, cfg), Report{Read: 1, Matched: 1, Produce: 1, Written: 1, LateChecked: true}, nil)
	checkCounts(t, "again", run(t, cfg), Report{Read: 1, Matched: 1, AlreadyRedriven: 1, LateChecked: true}, nil)
}

type fixedWatermarks int64

func (w fixedWatermarks) LastFlush(context.Context, string, int) (schemas.Flush, bool, error) {
	return schemas.Flush{Watermark: int64(w)}, int64(w) != math.MinInt64, nil
}

// TestRedriveErrors: a missing dead-letter topic, an empty range and a
// partition the topic lacks are errors that say so.
func TestRedriveErrors(t *testing.T) {
	b := newBroker(t)
	b.writeDeadLetters(t, deadLetter{partition: 1, reason: schemas.ReasonMalformedJSON, value: []byte("x")})
	cfg := b.config(nil, Range{}, false)
	cfg.DeadLetterTopic = b.topic + ".missing"
	_, err := Run(t.Context(), cfg)
	if err == nil || !strings.Contains(err.Error(), `dead-letter topic "`+cfg.DeadLetterTopic+`"`) || !strings.Contains(err.Error(), "not found") {
		t.Errorf("missing topic: %v", err)
	}
	_, err = Run(t.Context(), b.config(nil, Range{FromOffset: 1}, false))
	if !errors.Is(err, ErrEmptyRange) || !strings.Contains(err.Error(), "0: 0-0, 1: 0-1") {
		t.Errorf("empty range: %v", err)
	}
	_, err = Run(t.Context(), b.config(nil, Range{From: time.Now().Add(time.Hour)}, false))
	if !errors.Is(err, ErrEmptyRange) {
		t.Errorf("a time range after the last dead letter: %v", err)
	}
	_, err = Run(t.Context(), b.config(nil, Range{Partitions: []int{2}}, false))
	if err == nil || !strings.Contains(err.Error(), "partitions 0 to 1") {
		t.Errorf("partition 2 of 2: %v", err)
	}
}

func run(t *testing.T, cfg Config) *Report {
	t.Helper()
	rep, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range rep.Lines(func(n int64) string { return strconv.FormatInt(n, 10) }) {
		t.Log(l)
	}
	return rep
}

func checkCounts(t *testing.T, what string, got *Report, want Report, invalid map[schemas.Reason]int64) {
	t.Helper()
	type counts struct {
		Read, Matched, NoPayload, AlreadyRedriven, RejectedAgain, Late, Produce, Written int64
		LateChecked                                                                      bool
	}
	g := counts{got.Read, got.Matched, got.NoPayload, got.AlreadyRedriven, got.RejectedAgain, got.Late, got.Produce, got.Written, got.LateChecked}
	w := counts{want.Read, want.Matched, want.NoPayload, want.AlreadyRedriven, want.RejectedAgain, want.Late, want.Produce, want.Written, want.LateChecked}
	if g != w {
		t.Errorf("%s: counts %+v, want %+v", what, g, w)
	}
	if !maps.Equal(got.StillInvalid, invalid) && len(got.StillInvalid)+len(invalid) > 0 {
		t.Errorf("%s: still invalid %v, want %v", what, got.StillInvalid, invalid)
	}
}

// checkCopies checks that the input topic holds exactly the copies of
// want's dead letters, keyed and partitioned as the originals.
func checkCopies(t *testing.T, got map[string]kafka.Message, n int, want map[string]deadLetter) {
	t.Helper()
	if n != len(want) || len(got) != len(want) {
		t.Errorf("input topic: %d messages, %d copies %v, want %d", n, len(got), slices.Sorted(maps.Keys(got)), len(want))
	}
	for name, dl := range want {
		m, ok := got[name]
		if !ok {
			t.Errorf("no copy of %s", name)
			continue
		}
		if p := (kafka.Murmur2Balancer{}).Balance(kafka.Message{Key: dl.key}, 0, 1, 2); m.Partition != p || !bytes.Equal(m.Key, dl.key) {
			t.Errorf("copy of %s: key %q in partition %d, want %q in %d", name, m.Key, m.Partition, dl.key, p)
		}
		var ev schemas.Event
		var dec schemas.Decoder
		if err := dec.Decode(m.Value, &ev); err != nil || string(ev.User) != string(dl.key) {
			t.Errorf("copy of %s: value %q (%v), want the valid event of %s", name, m.Value, err, dl.key)
		}
	}
}
