package redrive

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/cohortline/cohortline/cohorts"
	"github.com/cohortline/cohortline/schemas"
)

const (
	testUser  = "u_redrive_test_0001"
	testTopic = "activity"
	testDLQ   = "activity.dlq"
)

// eventAt is a valid event of testUser at ts.
func eventAt(ts time.Time) []byte {
	return fmt.Appendf(nil, `{"v":1,"id":"e1","ts":%d,"user":%q,"kind":"message_sent","peer":"individual","media":"text","n":1,"country":"BR","lang":"pt","age":"25-34","platform":"android"}`,
		ts.UnixMilli(), testUser)
}

func TestJudgeVerdicts(t *testing.T) {
	now := time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)
	spec := hourly()
	open, closed := now.Add(-30*time.Minute), now.Add(-3*time.Hour)
	ok := func(reason schemas.Reason, offset int64, value []byte) letter {
		return letter{partition: 1, offset: offset, reason: reason, key: []byte(testUser), value: value,
			originTopic: testTopic, originPartition: 2, originOffset: 100 + offset}
	}
	for _, tc := range []struct {
		name    string
		reasons []string
		l       letter
		want    verdict
		reason  schemas.Reason
	}{
		{"valid, open window", nil, ok(schemas.BadValue("category"), 1, eventAt(open)), produce, ""},
		{"reason not chosen", []string{"ts_out_of_range"}, ok(schemas.BadValue("category"), 1, eventAt(open)), notChosen, ""},
		{"class chosen", []string{"bad_value"}, ok(schemas.BadValue("category"), 1, eventAt(open)), produce, ""},
		{"no reason header: not the pipeline's", nil, ok("", 1, eventAt(open)), notChosen, ""},
		{"pii_suspected", nil, letter{reason: schemas.ReasonPIISuspected}, noPayload, ""},
		{"pii_suspected with a payload all the same", nil, ok(schemas.ReasonPIISuspected, 1, eventAt(open)), noPayload, ""},
		{"no payload", nil, ok(schemas.ReasonMalformedJSON, 1, nil), noPayload, ""},
		{"already re-driven", nil, ok(schemas.BadValue("category"), 7, eventAt(open)), alreadyRedriven, ""},
		{"a copy rejected again", nil, ok(schemas.ReasonKeyMismatch, 3, eventAt(open)), rejectedAgain, ""},
		{"still malformed", nil, ok(schemas.ReasonMalformedJSON, 1, []byte(`{"v":1,`)), stillInvalid, schemas.ReasonMalformedJSON},
		{"still in the future", nil, ok(schemas.ReasonTSOutOfRange, 1, eventAt(now.Add(2*time.Hour))), stillInvalid, schemas.ReasonTSOutOfRange},
		{"within max_future_skew now", nil, ok(schemas.ReasonTSOutOfRange, 1, eventAt(now.Add(30*time.Minute))), produce, ""},
		{"still mis-keyed", nil, letter{reason: schemas.ReasonKeyMismatch, key: []byte("device-42"), value: eventAt(open)}, stillInvalid, schemas.ReasonKeyMismatch},
		{"window closed", nil, ok(schemas.BadValue("category"), 1, eventAt(closed)), late, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reasons, err := ParseReasons(tc.reasons)
			if err != nil {
				t.Fatal(err)
			}
			j := newJudge(reasons, testTopic, &spec, time.Hour, now, 4)
			j.names[testDLQ+"/1/7"] = true                          // dead letter 1/7 was re-driven
			j.copies[position{2, 103}] = true                       // and a copy sits at 2/103
			j.watermarks = slices4(now.Add(-time.Hour).UnixMilli()) // closes windows ending 65 minutes ago
			got, reason := j.verdict(&tc.l, testDLQ)
			if got != tc.want || reason != tc.reason {
				t.Errorf("verdict %d %q, want %d %q", got, reason, tc.want, tc.reason)
			}
		})
	}
}

// hourly is a spec of 1h windows and 5m of allowed lateness.
func hourly() cohorts.Spec {
	s := cohorts.DefaultSpec()
	s.Window, s.AllowedLateness = time.Hour, 5*time.Minute
	return s
}

// TestJudgeKeyByUser: keyed by the event's user token, a mis-keyed dead
// letter is valid, and its copy goes to its user's partition.
func TestJudgeKeyByUser(t *testing.T) {
	now := time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)
	spec := hourly()
	j := newJudge(Reasons{}, testTopic, &spec, time.Hour, now, 4)
	l := letter{reason: schemas.ReasonKeyMismatch, key: []byte("device-42"), value: eventAt(now)}
	if v, reason := j.verdict(&l, testDLQ); v != stillInvalid || reason != schemas.ReasonKeyMismatch {
		t.Errorf("keeping its key: verdict %d %q, want still invalid, key_mismatch", v, reason)
	}
	j.keyByUser = true
	if v, _ := j.verdict(&l, testDLQ); v != produce || string(l.key) != testUser {
		t.Errorf("keyed by user: verdict %d with key %q, want produce with %q", v, l.key, testUser)
	}
	// The late check looks at the user's partition.
	target := kafka.Murmur2Balancer{}.Balance(kafka.Message{Key: []byte(testUser)}, 0, 1, 2, 3)
	l.key = []byte("device-42")
	j.watermarks = slices4(math.MinInt64)
	j.watermarks[target] = now.Add(2 * time.Hour).UnixMilli()
	if v, _ := j.verdict(&l, testDLQ); v != late {
		t.Errorf("its user's partition closed the window: verdict %d, want late", v)
	}
}

func slices4(wm int64) []int64 { return []int64{wm, wm, wm, wm} }

// TestJudgeLateByPartition: the late check uses the watermark of the
// partition the copy will land in (murmur2 of its key), and a partition
// that never flushed closes nothing.
func TestJudgeLateByPartition(t *testing.T) {
	now := time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)
	spec := hourly()
	l := letter{reason: schemas.ReasonTSOutOfRange, key: []byte(testUser), value: eventAt(now.Add(-3 * time.Hour))}
	target := kafka.Murmur2Balancer{}.Balance(kafka.Message{Key: l.key}, 0, 1, 2, 3)
	j := newJudge(Reasons{}, testTopic, &spec, time.Hour, now, 4)
	j.watermarks = slices4(math.MinInt64)
	if v, _ := j.verdict(&l, testDLQ); v != produce {
		t.Errorf("no partition flushed: verdict %d, want produce", v)
	}
	j.watermarks[(target+1)%4] = now.UnixMilli()
	if v, _ := j.verdict(&l, testDLQ); v != produce {
		t.Errorf("another partition's watermark closed the window: verdict %d, want produce", v)
	}
	j.watermarks[target] = now.UnixMilli()
	if v, _ := j.verdict(&l, testDLQ); v != late {
		t.Errorf("its partition's watermark closed the window: verdict %d, want late", v)
	}
}
