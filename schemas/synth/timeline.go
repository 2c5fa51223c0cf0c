package synth

import (
	"math"
	"time"
)

// timeline maps record number i of n to a base event time that never
// decreases with i and follows a diurnal activity curve: record i takes the
// time where the cumulative activity reaches (i+u)/n, u uniform in [0,1)
// (stratified sampling of the curve). Records come out in event-time order
// without sorting; displacements are applied on top (see Generator).
type timeline struct {
	startMS  int64
	bucketMS float64
	n        float64
	cum      []float64 // cumulative activity at bucket edges, cum[0]=0, last=1
	cursor   int       // bucket of the previous call: quantiles only grow
}

// Diurnal curve: activity at UTC hour h is 1 + diurnalAmp·cos(2π(h−peak)/24).
// One global curve is a blend of every market's evening peak; 15:00 UTC
// sits between Asia's evening and the Americas' afternoon.
const (
	diurnalAmp      = 0.5
	diurnalPeakHour = 15.0
	maxBuckets      = 1 << 16
)

func newTimeline(start time.Time, span time.Duration, n int64) timeline {
	buckets := int(min(max(span/time.Minute, 1), maxBuckets))
	t := timeline{
		startMS:  start.UnixMilli(),
		bucketMS: float64(span.Milliseconds()) / float64(buckets),
		n:        float64(n),
		cum:      make([]float64, buckets+1),
	}
	for b := range buckets {
		midMS := float64(t.startMS) + (float64(b)+0.5)*t.bucketMS
		hour := math.Mod(midMS/3.6e6, 24)
		rate := 1 + diurnalAmp*math.Cos(2*math.Pi*(hour-diurnalPeakHour)/24)
		t.cum[b+1] = t.cum[b] + rate
	}
	total := t.cum[buckets]
	for b := range t.cum {
		t.cum[b] /= total
	}
	t.cum[buckets] = 1
	return t
}

// at returns the base event time (Unix ms) of record i; u is uniform in
// [0,1). Calls must come with non-decreasing i.
func (t *timeline) at(i int64, u float64) int64 {
	p := (float64(i) + u) / t.n
	last := len(t.cum) - 2
	for t.cursor < last && t.cum[t.cursor+1] <= p {
		t.cursor++
	}
	lo, hi := t.cum[t.cursor], t.cum[t.cursor+1]
	frac := 0.0
	if hi > lo {
		frac = min((p-lo)/(hi-lo), 1)
	}
	return t.startMS + int64((float64(t.cursor)+frac)*t.bucketMS)
}
