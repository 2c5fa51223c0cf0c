package pipeline

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/cohortline/cohortline/schemas"

	"github.com/cohortline/cohortline/pipeline/pipelinetest"
)

var t0 = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// eventMessage is a valid message at offset, for user, at t0+at.
func eventMessage(offset int64, user string, at time.Duration, edit func(*schemas.Event)) kafka.Message {
	ev := schemas.Event{
		ID: fmt.Appendf(nil, "e%d", offset), User: []byte(user), TS: t0.Add(at).UnixMilli(), N: 1,
		Kind: schemas.KindMessageSent, Peer: schemas.PeerIndividual, Media: schemas.MediaText,
		Country: schemas.Country{'B', 'R'}, Lang: schemas.Lang{'p', 't'}, Age: schemas.Age25to34, Platform: schemas.PlatformAndroid,
	}
	if edit != nil {
		edit(&ev)
	}
	return kafka.Message{Topic: "activity", Offset: offset, Key: []byte(user), Value: schemas.AppendJSON(nil, &ev)}
}

type recordingWorker struct {
	*Worker
	sink      *pipelinetest.MemorySink
	dead      *memoryDeadLetters
	counters  *Counters
	committed []int64
}

func newRecordingWorker(t *testing.T, window, lateness, outOfOrder time.Duration) *recordingWorker {
	cfg := testWorkerConfig(t, window, lateness)
	cfg.MaxOutOfOrder = outOfOrder
	r := &recordingWorker{sink: pipelinetest.NewMemorySink(), dead: &memoryDeadLetters{}, counters: &Counters{}}
	commit := func(_ context.Context, offset int64) error {
		r.committed = append(r.committed, offset)
		return nil
	}
	r.Worker = NewWorker(cfg, "activity", 0, r.sink, r.dead, commit, r.counters)
	return r
}

func (r *recordingWorker) feed(t *testing.T, msgs ...kafka.Message) {
	t.Helper()
	for _, m := range msgs {
		if err := r.Handle(t.Context(), m); err != nil {
			t.Fatalf("offset %d: %v", m.Offset, err)
		}
	}
}

const user = "AbCdEfGhIjKlMnOpQr"

// The committed offset is the smallest first offset of the open windows, even
// when an out-of-order event opened an older window after a newer one.
func TestCommitIsLowWatermarkAcrossOpenWindows(t *testing.T) {
	r := newRecordingWorker(t, time.Minute, 10*time.Minute, 0)
	r.feed(t,
		eventMessage(0, user, 30*time.Second, nil),               // window 00:00, first offset 0
		eventMessage(1, user, 5*time.Minute+30*time.Second, nil), // window 00:05, first offset 1
		eventMessage(2, user, 3*time.Minute+30*time.Second, nil), // window 00:03 opens after 00:05
	)
	if len(r.committed) != 0 {
		t.Fatalf("committed %v before any window closed", r.committed)
	}
	r.feed(t, eventMessage(3, user, 11*time.Minute+30*time.Second, nil)) // closes 00:00 only
	if len(r.sink.Flushes) != 1 {
		t.Fatalf("%d windows flushed, want 1", len(r.sink.Flushes))
	}
	if want := []int64{1}; fmt.Sprint(r.committed) != fmt.Sprint(want) {
		t.Fatalf("committed %v, want %v: the first offset of window 00:05, not of the older 00:03", r.committed, want)
	}
}

// Rejected messages go to the dead-letter queue with their reason and
// position; a pii_suspected one without key or payload, a key_mismatch one
// with both. Minors, sensitive categories and late events are counted;
// none of them reaches a partial.
func TestPolicyOutcomesAndDeadLetters(t *testing.T) {
	r := newRecordingWorker(t, time.Hour, 0, 0)
	r.feed(t, policyMessages(t)...)
	if err := r.dead.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if len(r.dead.durable) != 3 {
		t.Fatalf("%d dead letters, want 3: %+v", len(r.dead.durable), r.dead.durable)
	}
	if dl := r.dead.durable[0]; dl.Offset != 1 || dl.Reason != schemas.ReasonMalformedJSON || string(dl.Value) != `{"v":1` {
		t.Errorf("malformed message dead-lettered as %+v", dl)
	}
	if dl := r.dead.durable[1]; dl.Offset != 2 || dl.Reason != schemas.ReasonPIISuspected || dl.Key != nil || dl.Value != nil {
		t.Errorf("pii_suspected dead-lettered as %+v, want position and reason only", dl)
	}
	if dl := r.dead.durable[2]; dl.Offset != 5 || dl.Reason != schemas.ReasonKeyMismatch || string(dl.Key) != "another-key-entirely" || len(dl.Value) == 0 {
		t.Errorf("key_mismatch dead-lettered as %+v, want its key and payload", dl)
	}
	c := r.counters
	for name, got := range map[string]uint64{"minors": c.Minors.Load(), "sensitive": c.Sensitive.Load(), "late": c.Late.Load(), "key mismatch": c.KeyMismatch.Load(), "rejected": c.Rejected.Load()} {
		want := uint64(1)
		if name == "rejected" {
			want = 3
		}
		if got != want {
			t.Errorf("%s counter = %d, want %d", name, got, want)
		}
	}
	rows := r.sink.Rows[[2]int64{t0.UnixMilli(), 0}]
	if len(rows) != 1 {
		t.Fatalf("window 00:00 has %d cohorts, want 1 (the minor and the sensitive event make none): %v", len(rows), rows)
	}
	for _, row := range rows {
		// offset 0 counts; 3, 4, 5 (the key mismatch) and 7 do not
		if want := "country=BR|lang=pt|age=25-34|platform=android users=1 events=1"; row[:len(want)] != want {
			t.Errorf("partial %q, want it to start with %q", row, want)
		}
	}
}

// policyMessages is one of each message kind the worker treats specially,
// for hour windows without lateness: a counted event (offset 0), malformed
// JSON (1), suspected PII (2), a minor (3), a sensitive category (4), a key
// mismatch (5), the event that closes window 00:00 (6) and a late one (7).
func policyMessages(t *testing.T) []kafka.Message {
	pii := eventMessage(2, user, time.Minute, nil)
	pii.Value = []byte(`{"v":1,"id":"x","user":"call me at +55 11 98765-4321"}`)
	mismatch := eventMessage(5, user, 3*time.Minute, nil)
	mismatch.Key = []byte("another-key-entirely")
	return []kafka.Message{
		eventMessage(0, user, time.Minute, nil),
		{Topic: "activity", Offset: 1, Key: []byte(user), Value: []byte(`{"v":1`)},
		pii,
		eventMessage(3, "MinorUserToken00001", 2*time.Minute, func(e *schemas.Event) { e.Age = schemas.AgeMinor }),
		eventMessage(4, "SensitiveUserToken01", 2*time.Minute, func(e *schemas.Event) {
			e.Peer, e.Category = schemas.PeerBusiness, mustCategory(t, "health")
		}),
		mismatch,
		eventMessage(6, user, 61*time.Minute, nil), // closes window 00:00 (no lateness)
		eventMessage(7, user, 30*time.Minute, nil), // late
	}
}

func mustCategory(t *testing.T, slug string) schemas.Category {
	t.Helper()
	c, ok := schemas.ParseCategory([]byte(slug))
	if !ok {
		t.Fatalf("no category %q", slug)
	}
	return c
}
