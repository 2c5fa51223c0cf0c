package pipeline

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/cohortline/cohortline/cohorts"
	"github.com/cohortline/cohortline/schemas"
)

// TestTopUsersKeepsTheLatestMaxima checks topUsers against the plain
// definition, the quorum largest per-user maxima, on random streams.
func TestTopUsersKeepsTheLatestMaxima(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, quorum := range []int{1, 3, MaxWatermarkUsers} {
		var top topUsers
		maxima := map[cohorts.UserID]int64{}
		for i := range 5000 {
			u, ts := cohorts.UserID(r.IntN(40)), r.Int64N(100000)
			top.observe(u, ts, quorum)
			maxima[u] = max(maxima[u], ts)
			var want []int64
			for _, m := range maxima {
				want = append(want, m)
			}
			slices.Sort(want)
			slices.Reverse(want)
			want = want[:min(quorum, len(want))]
			if got := top.ts[:top.n]; !slices.Equal(got, want) {
				t.Fatalf("quorum %d, after %d events: top %v, want %v", quorum, i+1, got, want)
			}
			for j := range top.n {
				if maxima[top.users[j]] != top.ts[j] {
					t.Fatalf("quorum %d: user %d listed at %d, its maximum is %d", quorum, top.users[j], top.ts[j], maxima[top.users[j]])
				}
			}
		}
	}
}

// quorumWorker is a recording worker whose watermark needs three users.
func quorumWorker(t *testing.T, window, lateness, outOfOrder time.Duration) *recordingWorker {
	r := newRecordingWorker(t, window, lateness, outOfOrder)
	r.wm.quorum = 3
	return r
}

// crowd is one event of each of n users at t0+at, from offset on.
func crowd(offset int64, n int, at time.Duration) []kafka.Message {
	var msgs []kafka.Message
	for i := range n {
		msgs = append(msgs, eventMessage(offset+int64(i), fmt.Sprintf("CrowdUserToken%06d", i), at, nil))
	}
	return msgs
}

// TestOneFarAheadEventClosesNothing is finding 2 of issue 12: one event of
// one user two hours ahead used to close a 500-user window, making every
// other user's later events late. Now it waits until two more people's
// events reach its time.
func TestOneFarAheadEventClosesNothing(t *testing.T) {
	r := quorumWorker(t, time.Hour, 0, 0)
	r.feed(t, crowd(0, 500, 10*time.Minute)...)
	r.feed(t, eventMessage(500, "FarAheadUserToken01", 119*time.Minute, nil))
	r.feed(t, crowd(501, 500, 20*time.Minute)...) // everyone's second event
	if n := len(r.sink.Flushes); n != 0 {
		t.Fatalf("%d windows flushed by one user's event", n)
	}
	if n := r.counters.Late.Load(); n != 0 {
		t.Fatalf("%d events late after one user's far-ahead event", n)
	}
	r.feed(t, eventMessage(1001, "SecondFarUserToken1", 61*time.Minute, nil))
	if n := len(r.sink.Flushes); n != 0 {
		t.Fatalf("window flushed when two users reached its end, want three")
	}
	r.feed(t, eventMessage(1002, "ThirdFarUserToken01", 61*time.Minute, nil))
	rows := r.sink.Rows[[2]int64{t0.UnixMilli(), 0}]
	if len(rows) != 1 {
		t.Fatalf("window 00:00 not flushed once three users reached its end: %v", r.sink.Flushes)
	}
	for _, row := range rows {
		if want := " users=500 events=1000 "; !strings.Contains(row, want) {
			t.Errorf("partial %q, want %s", row, want)
		}
	}
}

// TestExcludedEventsDoNotMoveTheWatermark: a minor's, a sensitive, a
// rejected and a mismatched-key event far ahead, even from many users,
// close nothing: only countable events move the watermark.
func TestExcludedEventsDoNotMoveTheWatermark(t *testing.T) {
	r := quorumWorker(t, time.Hour, 0, 0)
	r.feed(t, crowd(0, 500, 10*time.Minute)...)
	offset := int64(500)
	for i := range 5 {
		user := fmt.Sprintf("ExcludedUserToken%02d", i)
		minorEv := eventMessage(offset, user, 119*time.Minute, func(e *schemas.Event) { e.Age = schemas.AgeMinor })
		sensitive := eventMessage(offset+1, user+"s", 119*time.Minute, func(e *schemas.Event) {
			e.Peer, e.Category = schemas.PeerBusiness, mustCategory(t, "health")
		})
		bad := eventMessage(offset+2, user+"b", 119*time.Minute, func(e *schemas.Event) { e.N = -1 })
		mismatch := eventMessage(offset+3, user+"k", 119*time.Minute, nil)
		mismatch.Key = nil
		r.feed(t, minorEv, sensitive, bad, mismatch)
		offset += 4
	}
	r.feed(t, crowd(offset, 500, 20*time.Minute)...)
	if n := len(r.sink.Flushes); n != 0 {
		t.Fatalf("%d windows flushed by excluded events", n)
	}
	if n := r.counters.Late.Load(); n != 0 {
		t.Fatalf("%d events late after excluded events", n)
	}
	if n := r.counters.Rejected.Load(); n != 10 {
		t.Errorf("%d rejected, want 10 (5 bad values, 5 null keys)", n)
	}
}

// TestWatermarkWaitsForTheWallClock: events from the future (within
// max_future_skew) wait in their window; the current window closes only
// once the clock has passed its end, however many users are ahead.
func TestWatermarkWaitsForTheWallClock(t *testing.T) {
	r := quorumWorker(t, time.Hour, 0, 0)
	r.wm.clock = t0.Add(30 * time.Minute).UnixMilli()
	r.feed(t, crowd(0, 100, 10*time.Minute)...)
	r.feed(t, crowd(100, 100, 90*time.Minute)...) // an hour ahead of the clock
	if n := len(r.sink.Flushes); n != 0 {
		t.Fatalf("%d windows flushed by events ahead of the clock", n)
	}
	r.feed(t, crowd(200, 100, 25*time.Minute)...)
	if n := r.counters.Late.Load(); n != 0 {
		t.Fatalf("%d events late while the clock is inside their window", n)
	}
	r.wm.clock = t0.Add(95 * time.Minute).UnixMilli()
	r.feed(t, crowd(300, 3, 91*time.Minute)...)
	if _, ok := r.sink.Flushes[[2]int64{t0.UnixMilli(), 0}]; !ok {
		t.Fatal("window 00:00 still open after the clock passed its end")
	}
	if _, ok := r.sink.Flushes[[2]int64{t0.Add(time.Hour).UnixMilli(), 0}]; ok {
		t.Fatal("window 01:00 flushed before the clock reached its end")
	}
}

// TestIdleCloseKeepsLaterHistory is finding 3 of issue 12: idle close used
// to move the watermark to the wall clock, so a backlog replayed after a
// quiet spell (the next hours of history) was all late. Now idle closes
// the open windows and moves the watermark to the end of the newest one
// plus the lateness, and the backlog counts.
func TestIdleCloseKeepsLaterHistory(t *testing.T) {
	r := quorumWorker(t, time.Hour, 5*time.Minute, 10*time.Second)
	r.feed(t, crowd(0, 50, 10*time.Minute)...)
	if err := r.Idle(t.Context(), time.Now()); err != nil { // days after the data
		t.Fatal(err)
	}
	if _, ok := r.sink.Flushes[[2]int64{t0.UnixMilli(), 0}]; !ok {
		t.Fatal("idle did not close window 00:00")
	}
	if want := t0.Add(65 * time.Minute).UnixMilli(); r.wm.value != want {
		t.Fatalf("watermark after idle %s, want the newest window's end plus lateness, %s",
			time.UnixMilli(r.wm.value).UTC(), time.UnixMilli(want).UTC())
	}
	offset := int64(50)
	for h := 1; h <= 4; h++ { // the backlog: four later hours
		r.feed(t, crowd(offset, 50, time.Duration(h)*time.Hour+30*time.Minute)...)
		offset += 50
	}
	if n := r.counters.Late.Load(); n != 0 {
		t.Fatalf("%d of the backlog's events late", n)
	}
	if n := r.counters.Counted.Load(); n != 250 {
		t.Errorf("%d events counted, want 250", n)
	}
}

// TestIdleDoesNotCutALiveWindowShort: in a partition that is live (its
// window is the wall clock's), idle closes nothing before the clock has
// passed the window's end.
func TestIdleDoesNotCutALiveWindowShort(t *testing.T) {
	r := quorumWorker(t, time.Hour, 5*time.Minute, 10*time.Second)
	r.feed(t, crowd(0, 50, 10*time.Minute)...)
	if err := r.Idle(t.Context(), t0.Add(20*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if n := len(r.sink.Flushes); n != 0 {
		t.Fatalf("idle at 00:20 flushed %d windows of the live hour", n)
	}
	r.feed(t, crowd(50, 50, 40*time.Minute)...)
	if n := r.counters.Late.Load(); n != 0 {
		t.Fatalf("%d events of the live hour late after idle", n)
	}
}
