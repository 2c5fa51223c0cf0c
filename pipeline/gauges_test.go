package pipeline

import (
	"testing"
	"time"
)

// Partitions shows what the collector shows: per assigned partition its
// watermark, open windows and lag (unknown before a reader fetched).
func TestPartitions(t *testing.T) {
	r := newMetricsRig(t, testWorkerConfig(t, time.Hour, 0), 3)
	if got := r.consumer.Partitions(); len(got) != 1 || got[3].OpenWindows != 0 || got[3].Lag != -1 {
		t.Fatalf("before any message: %+v", got)
	}
	r.feed(t, policyMessages(t)...)
	got := r.consumer.Partitions()[3]
	want := PartitionState{Watermark: t0.Add(61*time.Minute - 10*time.Second).UnixMilli(), OpenWindows: 1, Lag: -1}
	if got != want {
		t.Errorf("Partitions()[3] = %+v, want %+v", got, want)
	}
	r.consumer.detach(3, r.worker.gauges)
	if got := r.consumer.Partitions(); len(got) != 0 {
		t.Errorf("after the revoke: %+v", got)
	}
}
