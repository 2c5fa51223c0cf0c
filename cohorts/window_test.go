package cohorts

import (
	"math"
	"testing"
	"time"
)

func TestWindowOf(t *testing.T) {
	const h = int64(time.Hour / time.Millisecond)
	const may1 = int64(1714557600000) // 2024-05-01T10:00:00Z
	tests := []struct {
		name       string
		ts         int64
		size       time.Duration
		start, end int64
		str        string
	}{
		{"epoch", 0, time.Hour, 0, h, "1970-01-01T00:00:00Z"},
		{"last ms of first window", h - 1, time.Hour, 0, h, "1970-01-01T00:00:00Z"},
		{"first ms of second window", h, time.Hour, h, 2 * h, "1970-01-01T01:00:00Z"},
		{"real time", may1 + 1234567, time.Hour, may1, may1 + h, "2024-05-01T10:00:00Z"},
		{"15m", may1 + 16*60*1000, 15 * time.Minute, may1 + 15*60*1000, may1 + 30*60*1000, "2024-05-01T10:15:00Z"},
		{"day", may1, 24 * time.Hour, may1 - 10*h, may1 + 14*h, "2024-05-01T00:00:00Z"},
		{"one ms before epoch", -1, time.Hour, -h, 0, "1969-12-31T23:00:00Z"},
		{"window start before epoch", -h, time.Hour, -h, 0, "1969-12-31T23:00:00Z"},
		{"one ms earlier", -h - 1, time.Hour, -2 * h, -h, "1969-12-31T22:00:00Z"},
		{"max int64 clamps end", math.MaxInt64, time.Hour, math.MaxInt64 - math.MaxInt64%h, math.MaxInt64, ""},
		{"min int64 clamps start", math.MinInt64, time.Hour, math.MinInt64, math.MinInt64 - math.MinInt64%h, ""},
		{"sub-ms size truncated", 5, 1500 * time.Microsecond, 5, 6, "1970-01-01T00:00:00.005Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := WindowOf(tt.ts, tt.size)
			if w.Start != tt.start || w.End != tt.end {
				t.Errorf("WindowOf(%d, %v) = [%d, %d), want [%d, %d)", tt.ts, tt.size, w.Start, w.End, tt.start, tt.end)
			}
			if !w.Contains(tt.ts) && tt.ts != math.MaxInt64 {
				t.Errorf("%v does not contain %d", w, tt.ts)
			}
			if tt.str != "" && w.String() != tt.str {
				t.Errorf("String() = %q, want %q", w.String(), tt.str)
			}
		})
	}
}

// TestWindowsAlignToDays checks every valid window size against day
// boundaries: no window straddles a UTC midnight, before or after 1970.
func TestWindowsAlignToDays(t *testing.T) {
	const day = int64(24 * time.Hour / time.Millisecond)
	for m := int64(1); m <= 24*60; m++ {
		size := time.Duration(m) * time.Minute
		if (24*time.Hour)%size != 0 {
			continue
		}
		for _, ts := range []int64{-3*day - 1, -1, 0, 1714557600000 - 1, 1714557600000 + 7, 4102444800000 - 1} {
			w := WindowOf(ts, size)
			if floorDiv(w.Start, day) != floorDiv(w.End-1, day) {
				t.Errorf("size %v: window %v of %d straddles a day", size, w, ts)
			}
		}
	}
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b < 0 {
		q--
	}
	return q
}

func TestWindowOfPanicsOnTinySize(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic for a zero window size")
		}
	}()
	WindowOf(0, 0)
}

func TestCloses(t *testing.T) {
	s := mustParseSpec(t, "window: 1h\nallowed_lateness: 5m")
	const h, late = int64(3600000), int64(300000)
	w := s.WindowOf(10)
	tests := []struct {
		watermark int64
		closed    bool
	}{
		{math.MinInt64, false},
		{w.End - 1, false},
		{w.End, false}, // the window is complete but still takes late events
		{w.End + late - 1, false},
		{w.End + late, true},
		{w.End + late + 1, true},
		{math.MaxInt64, true},
	}
	for _, tt := range tests {
		if got := s.Closes(w, tt.watermark); got != tt.closed {
			t.Errorf("Closes(%v, %d) = %v, want %v", w, tt.watermark, got, tt.closed)
		}
	}
	// An event is late once its window has closed.
	if s.Late(h-1, h+late-1) || !s.Late(h-1, h+late) || s.Late(h, h+late) {
		t.Error("Late disagrees with Closes")
	}
	// No lateness: a window closes as soon as the watermark reaches its end.
	s0 := mustParseSpec(t, "window: 1h")
	if s0.Closes(w, w.End-1) || !s0.Closes(w, w.End) {
		t.Error("zero lateness")
	}
	// The last representable window never overflows into "closed".
	last := s.WindowOf(math.MaxInt64)
	if s.Closes(last, math.MaxInt64-1) || !s.Closes(last, math.MaxInt64) {
		t.Error("last window")
	}
}
