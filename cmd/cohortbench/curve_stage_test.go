package main

import (
	"strings"
	"testing"
	"time"
)

// curveRun is a run of stage (b) over 1M messages with the given CPU.
func curveRun(wall, cpu time.Duration, rows, events uint64) runResult {
	return runResult{Messages: 1_000_000, Wall: wall, CPU: cpu, PeakRSS: 200 << 20,
		Partials: partialStats{Rows: rows, Windows: 24, Users: 90_000, Events: events}}
}

func TestCurveRowFigures(t *testing.T) {
	row := curveRow{Partitions: 4, Run: curveRun(2*time.Second, 3*time.Second, 400, 990_000)}
	if got := row.eventsPerSecond(); got != 500_000 {
		t.Errorf("eventsPerSecond = %v, want 500000", got)
	}
	if got := row.cpuMicrosPerEvent(); got != 3 {
		t.Errorf("cpuMicrosPerEvent = %v, want 3 (3 s over 1M events)", got)
	}
	if got := (curveRow{}).cpuMicrosPerEvent(); got != 0 {
		t.Errorf("cpuMicrosPerEvent of no messages = %v, want 0", got)
	}
}

func TestReportPartitionCurve(t *testing.T) {
	single := curveRun(2*time.Second, 4*time.Second, 800, 990_000)
	r := &report{Run: single, Machine: machine{CPUs: 2}, Curve: []curveRow{
		{Partitions: 1, Run: curveRun(4*time.Second, 3*time.Second, 100, 990_000)},
		{Partitions: 8, Run: single, IsStageB: true},
		{Partitions: 16, Run: curveRun(time.Second, 5*time.Second, 1600, 980_000)},
	}}
	r.Curve[2].Run.Partials.Duplicates = 3
	var out strings.Builder
	r.partitionCurve(&out)
	want := []string{
		"1 4.00 250k 3.00 3.00 200 MiB 0 +0 (+0.000%)",
		"8 2.00 500k 4.00 4.00 200 MiB 0 is (b)",
		"16 1.00 1.00M 5.00 5.00 200 MiB 3 -10000 (-1.010%)",
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2+len(want) {
		t.Fatalf("partition curve:\n%s\nwant a title, a header and %d rows", out.String(), len(want))
	}
	for i, w := range want {
		if got := strings.Join(strings.Fields(lines[2+i]), " "); got != w {
			t.Errorf("row %d = %q, want %q", i, got, w)
		}
	}
	if !strings.Contains(lines[1], "CPU-µs/event") || !strings.Contains(lines[1], "events/s") {
		t.Errorf("header %q does not name events/s and CPU-µs/event", lines[1])
	}
}
