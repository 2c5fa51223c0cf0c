package pipeline

import (
	"math"
	"time"
)

// watermark is one partition's event-time watermark: the largest event time
// seen minus the out-of-orderness bound. Windows close when it passes their
// end plus the allowed lateness. It only moves forward.
type watermark struct {
	bound int64 // ms
	value int64 // ms; math.MinInt64 until the first event
}

func newWatermark(maxOutOfOrder time.Duration) watermark {
	return watermark{bound: maxOutOfOrder.Milliseconds(), value: math.MinInt64}
}

// observe moves the watermark for an event at ts (epoch ms).
func (w *watermark) observe(ts int64) { w.advanceTo(ts - w.bound) }

// advanceTo raises the watermark to v if v is larger.
func (w *watermark) advanceTo(v int64) {
	if v > w.value {
		w.value = v
	}
}
