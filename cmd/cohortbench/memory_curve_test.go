package main

import (
	"strings"
	"testing"
	"time"
)

const mebibyte = 1 << 20

// threePoints is a memory curve whose middle step costs more per user
// than its last one, as a hash table's growth step does.
var threePoints = memoryResult{Points: []memoryPoint{
	{Users: 1000, Events: 2000, Active: 1000, PeakRSS: 100 * mebibyte, LiveHeap: 40 * mebibyte, Wall: time.Second},
	{Users: 5000, Events: 10000, Active: 4000, PeakRSS: 100*mebibyte + 3000*300, LiveHeap: 40*mebibyte + 3000*30, Wall: time.Second},
	{Users: 10000, Events: 20000, Active: 9000, PeakRSS: 100*mebibyte + 3000*300 + 5000*60, LiveHeap: 40*mebibyte + 3000*30 + 5000*30, Wall: time.Second},
}}

func TestMemoryCurveSlopes(t *testing.T) {
	m := threePoints
	// (3000*300 + 5000*60) bytes over 8000 more active users.
	if got, want := m.BytesPerUser(), 150.0; got != want {
		t.Errorf("BytesPerUser = %v, want %v (largest minus smallest)", got, want)
	}
	if got, want := m.LiveBytesPerUser(), 30.0; got != want {
		t.Errorf("LiveBytesPerUser = %v, want %v", got, want)
	}
	for i, want := range []float64{0, 300, 60} {
		if got := m.stepPerUser(i); got != want {
			t.Errorf("stepPerUser(%d) = %v, want %v", i, got, want)
		}
	}
	flat := memoryResult{Points: []memoryPoint{{Active: 10, PeakRSS: 5}, {Active: 10, PeakRSS: 9}}}
	if got := flat.BytesPerUser(); got != 0 {
		t.Errorf("BytesPerUser with no more active users = %v, want 0: nothing to divide by", got)
	}
}

func TestReportMemoryCurve(t *testing.T) {
	m := threePoints
	r := &report{Memory: &m, opts: options{MemEventsPerUser: 2, MemUsers: []int{1000, 5000, 10000}}}
	var out strings.Builder
	r.memory(&out)
	lines := strings.Split(out.String(), "\n")
	var rows []string
	for _, l := range lines {
		if f := strings.Fields(l); len(f) > 0 && (f[0] == "1000" || f[0] == "5000" || f[0] == "10000") {
			rows = append(rows, strings.Join(f, " "))
		}
	}
	want := []string{
		"1000 1000 2k 100 MiB 40 MiB -",
		"5000 4000 10k 101 MiB 40 MiB 300",
		"10000 9000 20k 101 MiB 40 MiB 60",
	}
	if strings.Join(rows, "\n") != strings.Join(want, "\n") {
		t.Errorf("memory table rows:\n%s\nwant:\n%s\nin:\n%s", strings.Join(rows, "\n"), strings.Join(want, "\n"), out.String())
	}
	if !strings.Contains(out.String(), "(9000 - 1000) users = 150 bytes of peak RSS   target <= 100: MISSED: over by 50 bytes") {
		t.Errorf("the summary does not give the slope between the ends against the target:\n%s", out.String())
	}
}
