package cohorts

import (
	"fmt"
	"math"
	"time"
)

// Window is an event-time tumbling window, [Start, End) in Unix epoch
// milliseconds (the unit of the event's "ts"). Windows of one size tile the
// time line from the epoch, so a window size dividing 24h never straddles a
// UTC day. Window is comparable and can be a map key.
type Window struct {
	Start int64 // first millisecond in the window
	End   int64 // first millisecond after it
}

// WindowOf returns the window of the given size that contains ts (floor
// division, so negative times work too). size is truncated to whole
// milliseconds and must be at least 1ms. At the far ends of the int64 range,
// where a window's bounds are not representable, they are clamped to
// math.MinInt64 and math.MaxInt64 rather than wrapping around.
func WindowOf(ts int64, size time.Duration) Window {
	ms := size.Milliseconds()
	if ms < 1 {
		panic(fmt.Sprintf("BUG: cohorts.WindowOf with window size %v, want at least 1ms", size))
	}
	r := ts % ms
	if r < 0 {
		r += ms
	}
	// Both bounds are computed from ts, so that clamping one leaves the
	// other exact: ts-r is the start, ts+(ms-r) the end.
	w := Window{Start: math.MinInt64, End: math.MaxInt64}
	if ts >= math.MinInt64+r {
		w.Start = ts - r
	}
	if ts <= math.MaxInt64-(ms-r) {
		w.End = ts + (ms - r)
	}
	return w
}

// Contains reports whether ts falls in w.
func (w Window) Contains(ts int64) bool { return w.Start <= ts && ts < w.End }

// String returns the window's start in RFC 3339, UTC:
// "2024-05-01T10:00:00Z".
func (w Window) String() string {
	return time.UnixMilli(w.Start).UTC().Format(time.RFC3339Nano)
}

// WindowOf returns the window of s that contains ts.
func (s Spec) WindowOf(ts int64) Window { return WindowOf(ts, s.Window) }

// Closes reports whether w is closed at the given watermark: the watermark
// (event time, ms; "every event before it has been seen") has reached
// w.End + AllowedLateness. A closed window is flushed and its per-user
// state dropped; events that still arrive for it are late.
func (s Spec) Closes(w Window, watermark int64) bool {
	late := s.AllowedLateness.Milliseconds()
	deadline := int64(math.MaxInt64)
	if w.End <= math.MaxInt64-late {
		deadline = w.End + late
	}
	return watermark >= deadline
}

// Late reports whether an event at ts arrives after its window closed at
// the given watermark: the pipeline drops and counts it.
func (s Spec) Late(ts, watermark int64) bool {
	return s.Closes(s.WindowOf(ts), watermark)
}
