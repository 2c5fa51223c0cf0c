package pipeline

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/cohortline/cohortline/cohorts"
	"github.com/cohortline/cohortline/cohorts/cohortsref"
	"github.com/cohortline/cohortline/schemas"
)

// referencePartials restates one partition worker's rules as plainly as
// possible: a watermark that follows the event time at least quorum
// distinct users' countable (counted or bounded) events in the open
// windows have reached, minus the bound, and never moves back; late events
// dropped; every window closed in the end. The aggregation, with each
// event's outcome, is cohortsref's. It returns the partials rendered as
// partialRows does, by window start.
func referencePartials(t *testing.T, cfg workerConfig, quorum int, msgs []kafka.Message) map[int64]map[string]bool {
	t.Helper()
	spec := cfg.Spec
	dims := make([]string, len(spec.Dimensions))
	for i, d := range spec.Dimensions {
		dims[i] = string(d)
	}
	agg := cohortsref.NewAggregator(cohortsref.Params{Dimensions: dims, Window: spec.Window, BoundEvents: spec.Bounds.Events, BoundCallSeconds: spec.Bounds.CallSeconds})
	watermark := int64(math.MinInt64)
	latest := map[int64]map[string]int64{} // open window → user → latest countable event time
	window, lateness := spec.Window.Milliseconds(), spec.AllowedLateness.Milliseconds()
	var dec schemas.Decoder
	for _, m := range msgs {
		var e schemas.Event
		if dec.Decode(m.Value, &e) != nil || string(m.Key) != string(e.User) {
			continue
		}
		start := cohortsref.WindowStart(e.TS, spec.Window)
		if start+window+lateness <= watermark {
			continue // late
		}
		ev := cohortsref.Event{User: string(e.User), ID: string(e.ID), E: e}
		ev.E.User, ev.E.ID = nil, nil
		if o := agg.Add(ev); o != cohortsref.Counted && o != cohortsref.Bounded {
			continue
		}
		if latest[start] == nil {
			latest[start] = map[string]int64{}
		}
		latest[start][ev.User] = max(latest[start][ev.User], e.TS)
		perUser := map[string]int64{}
		for _, users := range latest {
			for u, ts := range users {
				perUser[u] = max(perUser[u], ts)
			}
		}
		var maxima []int64
		for _, ts := range perUser {
			maxima = append(maxima, ts)
		}
		slices.Sort(maxima)
		if n := len(maxima); n >= quorum {
			watermark = max(watermark, maxima[n-quorum]-cfg.MaxOutOfOrder.Milliseconds())
		}
		for s := range latest {
			if s+window+lateness <= watermark {
				delete(latest, s)
			}
		}
	}
	out := map[int64]map[string]bool{}
	fs := cohorts.FeatureSetV1()
	for start, byKey := range agg.Result() {
		for key, c := range byKey {
			values := make([]uint64, len(fs))
			for i, f := range fs {
				values[i] = c.Values[f.Name]
			}
			if out[start] == nil {
				out[start] = map[string]bool{}
			}
			out[start][fmt.Sprintf("%s users=%d events=%d values=%v", key, c.Users, c.Events, values)] = true
		}
	}
	return out
}

// TestWorkerMatchesStreamingReference: with the default watermark quorum,
// over generated messages with every fault, the worker's partials equal
// the plain restatement's, window by window.
func TestWorkerMatchesStreamingReference(t *testing.T) {
	msgs := testMessages(t, 30000)
	for _, spec := range []struct{ window, lateness time.Duration }{{time.Hour, 5 * time.Minute}, {time.Minute, 5 * time.Minute}} {
		t.Run(fmt.Sprintf("window %v lateness %v", spec.window, spec.lateness), func(t *testing.T) {
			cfg := testWorkerConfig(t, spec.window, spec.lateness)
			cfg.WatermarkUsers = 3
			sink := newMemorySink()
			w := newPartitionWorker(cfg, "activity", 0, sink, &memoryDeadLetters{}, func(context.Context, int64) error { return nil }, &Counters{})
			for _, m := range msgs {
				if err := w.handle(t.Context(), m); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.idle(t.Context(), time.Now()); err != nil { // the data is in the past: closes all
				t.Fatal(err)
			}
			want := referencePartials(t, cfg, 3, msgs)
			got := map[int64]map[string]bool{}
			for key, rows := range sink.rows {
				for _, row := range rows {
					if got[key[0]] == nil {
						got[key[0]] = map[string]bool{}
					}
					got[key[0]][row] = true
				}
			}
			var diffs []string
			for start, rows := range want {
				for row := range rows {
					if !got[start][row] {
						diffs = append(diffs, fmt.Sprintf("reference only %s %s", time.UnixMilli(start).UTC(), row[:min(len(row), 90)]))
					}
				}
			}
			for start, rows := range got {
				for row := range rows {
					if !want[start][row] {
						diffs = append(diffs, fmt.Sprintf("worker only    %s %s", time.UnixMilli(start).UTC(), row[:min(len(row), 90)]))
					}
				}
			}
			slices.Sort(diffs)
			if len(diffs) > 0 {
				t.Errorf("%d differences:\n%s", len(diffs), strings.Join(diffs[:min(len(diffs), 20)], "\n"))
			}
		})
	}
}
