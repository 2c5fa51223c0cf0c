package publish

import (
	"testing"
	"time"

	"github.com/cohortline/cohortline/cohorts"
	"github.com/cohortline/cohortline/schemas"
)

// TestAutoPublisherComplete: a window is final once every partition of the
// topic flushed with a watermark at or past its end plus the lateness; a
// partition that never flushed keeps it open (max_wait then decides).
func TestSchedulerComplete(t *testing.T) {
	spec := cohorts.DefaultSpec()
	spec.AllowedLateness = 5 * time.Minute
	a := &Scheduler{Spec: spec}
	start := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	w := schemas.FlushedWindow{Start: start, End: start.Add(time.Hour)}
	final := w.End.Add(spec.AllowedLateness).UnixMilli()
	for _, tt := range []struct {
		name       string
		partitions int
		watermarks map[int32]int64
		want       bool
	}{
		{"all partitions past", 3, map[int32]int64{0: final, 1: final + 1, 2: final + 3_600_000}, true},
		{"one partition within the lateness", 3, map[int32]int64{0: final, 1: final - 1, 2: final}, false},
		{"one partition never flushed", 3, map[int32]int64{0: final, 2: final}, false},
		{"partitions added to the topic", 4, map[int32]int64{0: final, 1: final, 2: final}, false},
	} {
		if got := a.complete(w, tt.partitions, tt.watermarks); got != tt.want {
			t.Errorf("%s: complete = %t, want %t", tt.name, got, tt.want)
		}
	}
}
