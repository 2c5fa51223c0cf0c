package pipeline

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/cohortline/cohortline/cohorts"
	"github.com/cohortline/cohortline/cohorts/cohortstest"
	"github.com/cohortline/cohortline/schemas"

	"github.com/cohortline/cohortline/pipeline/pipelinetest"
)

// referencePartials runs cohortstest's restatement of a partition worker
// over msgs and returns its partials rendered as partialRows does, by
// window start.
func referencePartials(t *testing.T, cfg WorkerConfig, quorum int, msgs []kafka.Message) map[int64]map[string]bool {
	t.Helper()
	spec := cfg.Spec
	dims := make([]string, len(spec.Dimensions))
	for i, d := range spec.Dimensions {
		dims[i] = string(d)
	}
	params := cohortstest.Params{Dimensions: dims, Window: spec.Window, BoundEvents: spec.Bounds.Events, BoundCallSeconds: spec.Bounds.CallSeconds}
	ref := cohortstest.NewPartition(params, quorum, cfg.MaxOutOfOrder, spec.AllowedLateness)
	var dec schemas.Decoder
	for _, m := range msgs {
		var e schemas.Event
		if dec.Decode(m.Value, &e) != nil || string(m.Key) != string(e.User) {
			continue
		}
		ev := cohortstest.Event{User: string(e.User), ID: string(e.ID), E: e}
		ev.E.User, ev.E.ID = nil, nil
		ref.Add(ev)
	}
	out := map[int64]map[string]bool{}
	fs := cohorts.PartialFeatures()
	for start, byKey := range ref.Result() {
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
			sink := pipelinetest.NewMemorySink()
			w := NewWorker(cfg, "activity", 0, sink, &memoryDeadLetters{}, func(context.Context, int64) error { return nil }, &Counters{})
			for _, m := range msgs {
				if err := w.Handle(t.Context(), m); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Idle(t.Context(), time.Now()); err != nil { // the data is in the past: closes all
				t.Fatal(err)
			}
			want := referencePartials(t, cfg, 3, msgs)
			got := map[int64]map[string]bool{}
			for key, rows := range sink.Rows {
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
