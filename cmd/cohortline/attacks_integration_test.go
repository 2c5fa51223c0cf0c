package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/cohortline/cohortline/deploy/devenv"
	"github.com/cohortline/cohortline/pipeline"
	"github.com/cohortline/cohortline/schemas"
)

// TestRunResistsOneProducer replays the attacks and accidents of issue 12
// against `run` on the real broker and ClickHouse: one topic, one
// partition, one scenario per day of event time, each of which broke
// other people's numbers before:
//
//   - id collision (11-01): a user who sends 1,000 other users' event ids
//     first erased their events;
//   - a far-ahead excluded event (11-02): one minor's event two hours ahead
//     flushed a 500-user window before its users' second events;
//   - a far-ahead valid event of one user (11-03): the same with an adult;
//   - mismatched keys (11-04): events keyed by another token, or by none,
//     counted;
//   - a minor with mixed labels (11-05): unknown, 13-17, unknown counted in
//     age=unknown;
//   - replay after an idle close (11-06): a backlog of the next hours,
//     produced after the partition went idle, was all late.
func TestRunResistsOneProducer(t *testing.T) {
	s := &faultSet{kafka: devenv.Kafka(t), clickhouse: devenv.ClickHouse(t), dir: t.TempDir()}
	suffix := time.Now().UnixNano()
	s.name, s.db = fmt.Sprintf("it-attacks-%d", suffix), fmt.Sprintf("it_attacks_%d", suffix)
	t.Cleanup(func() { deleteTopics(s.kafka, s.name, s.name+".dlq") })
	t.Cleanup(func() { dropDatabases(t, s.clickhouse, s.db, s.db+"_published") })
	createTopic(t, s.kafka, s.name, 1)

	var msgs []kafka.Message
	add := func(day int, at time.Duration, token, id string, edit func(*schemas.Event)) {
		ev := schemas.Event{
			ID: []byte(id), User: []byte(token), TS: time.Date(2026, 11, day, 0, 0, 0, 0, time.UTC).Add(at).UnixMilli(), N: 1,
			Kind: schemas.KindMessageSent, Peer: schemas.PeerIndividual, Media: schemas.MediaText,
			Country: schemas.Country{'B', 'R'}, Lang: schemas.Lang{'p', 't'}, Age: schemas.Age25to34, Platform: schemas.PlatformAndroid,
		}
		if edit != nil {
			edit(&ev)
		}
		msgs = append(msgs, kafka.Message{Key: []byte(token), Value: schemas.AppendJSON(nil, &ev)})
	}
	token := func(kind string, i int) string { return fmt.Sprintf("%sToken%08d", kind, i) }
	ios := func(e *schemas.Event) { e.Platform = schemas.PlatformIOS }
	minor := func(e *schemas.Event) { e.Age = schemas.AgeMinor }
	unknown := func(e *schemas.Event) { e.Age = schemas.AgeUnknown }

	// 11-01: the attacker (on iOS, another cohort) sends the victims' ids first.
	for i := range 1000 {
		add(1, 10*time.Hour+5*time.Minute, "AttackerToken00001", fmt.Sprintf("victim-%d", i), ios)
	}
	for i := range 1000 {
		add(1, 10*time.Hour+10*time.Minute, token("Victim", i), fmt.Sprintf("victim-%d", i), nil)
		add(1, 10*time.Hour+11*time.Minute, token("Victim", i), "1", nil) // a per-device counter
	}
	// 11-02 and 11-03: 500 users, one far-ahead event, the users' second events.
	for _, sc := range []struct {
		day int
		far func(*schemas.Event)
	}{{2, minor}, {3, nil}} {
		for i := range 500 {
			add(sc.day, 10*time.Hour+5*time.Minute, token("Crowd", i), fmt.Sprintf("a%d", i), nil)
		}
		add(sc.day, 11*time.Hour+59*time.Minute, "FarAheadToken00001", "far", sc.far)
		for i := range 500 {
			add(sc.day, 10*time.Hour+20*time.Minute, token("Crowd", i), fmt.Sprintf("b%d", i), nil)
		}
	}
	// 11-04: 100 events keyed right, 50 by another token, 50 with no key.
	for i := range 200 {
		add(4, 10*time.Hour+time.Duration(i)*time.Second, token("Keyed", i), "k", nil)
		switch {
		case i >= 150:
			msgs[len(msgs)-1].Key = nil
		case i >= 100:
			msgs[len(msgs)-1].Key = []byte(token("Keyed", i-100))
		}
	}
	// 11-05: two minors with mixed labels among 100 adults.
	for i := range 100 {
		add(5, 10*time.Hour+5*time.Minute, token("Adult", i), "x", unknown)
	}
	for j, ages := range [][]func(*schemas.Event){{unknown, minor, unknown}, {minor, unknown, minor}} {
		for k, age := range ages {
			add(5, 10*time.Hour+time.Duration(6+k)*time.Minute, token("Mixed", j), fmt.Sprint(k), age)
		}
	}
	// 11-06: an hour of history; the backlog of the next four hours comes
	// after the partition went idle.
	for i := range 500 {
		add(6, 10*time.Hour+time.Duration(i)*5*time.Second, token("History", i), "h", nil)
	}
	produce(t, s.kafka, s.name, msgs)

	ctx, stop := context.WithCancel(t.Context())
	defer stop()
	var logs lockedBuffer
	exit := startRun(ctx, s.writeConfig(t, "run.yaml", runOptions{}), &logs)
	client := s.client(t, "")
	partials := func() map[string]string {
		rows, err := client.CurrentPartials(t.Context(), time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 7, 0, 0, 0, 0, time.UTC))
		if err != nil {
			return nil
		}
		out := map[string]string{}
		for _, r := range rows {
			out[r.WindowStart.UTC().Format("01-02T15")+" "+r.CohortKey] = fmt.Sprintf("users=%d events=%d", r.Users, r.Events)
		}
		return out
	}
	const history = "11-06T10 country=BR|lang=pt|age=25-34|platform=android"
	if !waitUntil(90*time.Second, func() bool { return partials()[history] != "" }) {
		t.Fatalf("the history window was not flushed by the idle timeout; logs:\n%s", tail(logs.String(), 20))
	}
	msgs = nil
	for h := 11; h < 15; h++ {
		for i := range 500 {
			for k := range 10 {
				add(6, time.Duration(h)*time.Hour+time.Duration(k*6)*time.Minute, token("History", i), fmt.Sprintf("%d-%d", h, k), nil)
			}
		}
	}
	produce(t, s.kafka, s.name, msgs)
	const lastBacklog = "11-06T14 country=BR|lang=pt|age=25-34|platform=android"
	if !waitUntil(90*time.Second, func() bool { return partials()[lastBacklog] != "" }) {
		t.Fatalf("the backlog's last window was not flushed; logs:\n%s", tail(logs.String(), 20))
	}
	got := partials()
	stop()
	if code := <-exit; code != exitOK {
		t.Errorf("run exited %d; logs:\n%s", code, tail(logs.String(), 20))
	}

	want := map[string]string{
		"11-01T10 country=BR|lang=pt|age=25-34|platform=android":   "users=1000 events=2000",
		"11-01T10 country=BR|lang=pt|age=25-34|platform=ios":       "users=1 events=20", // the attacker, bounded
		"11-02T10 country=BR|lang=pt|age=25-34|platform=android":   "users=500 events=1000",
		"11-03T10 country=BR|lang=pt|age=25-34|platform=android":   "users=500 events=1000",
		"11-03T11 country=BR|lang=pt|age=25-34|platform=android":   "users=1 events=1",
		"11-04T10 country=BR|lang=pt|age=25-34|platform=android":   "users=100 events=100",
		"11-05T10 country=BR|lang=pt|age=unknown|platform=android": "users=100 events=100",
		history: "users=500 events=500",
	}
	for h := 11; h < 15; h++ {
		want[fmt.Sprintf("11-06T%d country=BR|lang=pt|age=25-34|platform=android", h)] = "users=500 events=5000"
	}
	var diffs []string
	for k, w := range want {
		if got[k] != w {
			diffs = append(diffs, fmt.Sprintf("%s: %q, want %q", k, got[k], w))
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s: %q, want no partial", k, g))
		}
	}
	if len(diffs) > 0 {
		t.Errorf("partials in ClickHouse:\n%s", strings.Join(diffs, "\n"))
	}

	// The 100 mismatched keys are dead letters with their key and payload.
	mismatched := 0
	for _, m := range genReadPartition(t.Context(), t, s.kafka, s.name+".dlq", 0) {
		for _, h := range m.Headers {
			if h.Key == pipeline.HeaderReason && string(h.Value) == string(schemas.ReasonKeyMismatch) && len(m.Value) > 0 {
				mismatched++
			}
		}
	}
	if mismatched != 100 {
		t.Errorf("%d key_mismatch dead letters with payload, want 100", mismatched)
	}
}

// createTopic creates topic with n partitions on the broker at addr.
func createTopic(t *testing.T, addr, topic string, n int) {
	t.Helper()
	client := &kafka.Client{Addr: kafka.TCP(addr), Timeout: 10 * time.Second}
	resp, err := client.CreateTopics(t.Context(), &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{{Topic: topic, NumPartitions: n, ReplicationFactor: 1}}})
	if err == nil {
		err = resp.Errors[topic]
	}
	if err != nil {
		t.Fatalf("creating topic %s: %v", topic, err)
	}
}

// produce writes msgs to partition 0 of topic, in order, keys as they are.
func produce(t *testing.T, addr, topic string, msgs []kafka.Message) {
	t.Helper()
	w := &kafka.Writer{Addr: kafka.TCP(addr), Topic: topic, Balancer: partitionZero{}, RequiredAcks: kafka.RequireAll, BatchSize: 1000, BatchTimeout: 10 * time.Millisecond}
	defer w.Close()
	if err := w.WriteMessages(t.Context(), msgs...); err != nil {
		t.Fatalf("producing %d messages to %s: %v", len(msgs), topic, err)
	}
}

// partitionZero sends every message to partition 0, whatever its key.
type partitionZero struct{}

func (partitionZero) Balance(kafka.Message, ...int) int { return 0 }
