package main

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/cohortline/cohortline/pipeline"
	"github.com/cohortline/cohortline/schemas/synth"
)

// soakData is the soak's synthetic activity: gen's realistic mix (late,
// out-of-order, duplicate and bad records, minors, sensitive categories,
// Zipf users and countries) whose event times run from the soak's start
// over its duration, so that, produced at a steady rate, every event's
// time is about the wall clock's when it is sent. Windows then close as
// they would in production, one after the other, and free their state.
func soakData(seed uint64, users int, rate float64, start time.Time, d time.Duration) (*synth.Generator, error) {
	cfg := synth.DefaultConfig()
	cfg.Seed = seed
	cfg.Users = users
	cfg.Events = max(int64(rate*d.Seconds()), 1)
	cfg.Start = start
	cfg.Span = d
	return synth.New(cfg)
}

// pacedRecords hands out g's records no faster than rate per second from
// start: record i waits until start + i/rate. It sleeps only once it is
// ahead by a whole millisecond (a sleep per record would cost more than
// the record), and ends when g does or ctx is done. The message timestamp
// is the clock's when the record goes out, as a producer of live events
// gives it.
func pacedRecords(ctx context.Context, g *synth.Generator, rate float64, start time.Time, sent *atomic.Int64) func() (pipeline.Record, bool) {
	var i int64
	return func() (pipeline.Record, bool) {
		due := start.Add(time.Duration(float64(i) / rate * float64(time.Second)))
		if wait := time.Until(due); wait >= time.Millisecond {
			select {
			case <-ctx.Done():
				return pipeline.Record{}, false
			case <-time.After(wait):
			}
		}
		if ctx.Err() != nil {
			return pipeline.Record{}, false
		}
		rec, ok := g.Next()
		if !ok {
			return pipeline.Record{}, false
		}
		i++
		sent.Store(i)
		return pipeline.Record{Key: rec.Key, Value: rec.Line, Time: time.Now()}, true
	}
}
