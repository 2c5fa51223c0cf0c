package main

import (
	"context"
	"sync"
	"time"
)

// sampleEvery is how often a sampler reads a process's CPU time and RSS.
const sampleEvery = 100 * time.Millisecond

type sample struct {
	at  time.Time
	cpu time.Duration
	rss uint64
}

// sampler records a process's CPU time and resident memory over time, so a
// stage can ask afterwards what the process used between two instants: the
// servers run for the whole benchmark, and a stage's end is sometimes known
// only after it (ClickHouse's last insert is found once the count has
// stayed put for a while).
type sampler struct {
	name string
	pid  int

	mu      sync.Mutex
	samples []sample
	err     error // the first read that failed; sampling stops there
}

func newSampler(name string, pid int) *sampler {
	return &sampler{name: name, pid: pid}
}

// run samples until ctx is done; its caller waits for it.
func (s *sampler) run(ctx context.Context) {
	t := time.NewTicker(sampleEvery)
	defer t.Stop()
	for {
		if !s.take() {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// take records one sample now; it reports false once reading failed (the
// process is gone).
func (s *sampler) take() bool {
	s.mu.Lock() // held while reading: samples stay in time order
	defer s.mu.Unlock()
	if s.err != nil {
		return false
	}
	now := time.Now()
	cpu, err := procCPU(s.pid)
	var mem procMemory
	if err == nil {
		mem, err = procMem(s.pid)
	}
	if err != nil {
		s.err = err
		return false
	}
	s.samples = append(s.samples, sample{at: now, cpu: cpu, rss: mem.RSS})
	return true
}

// usage is what a process used between two instants.
type usage struct {
	CPU     time.Duration
	PeakRSS uint64 // the highest RSS sampled in the span
}

// span returns the CPU time used from the last sample at or before from to
// the last sample at or before to, and the highest RSS sampled in between:
// both are exact to one sampling interval.
func (s *sampler) span(from, to time.Time) (usage, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var first, last *sample
	var u usage
	for i := range s.samples {
		sm := &s.samples[i]
		if sm.at.After(to) {
			break
		}
		if !sm.at.After(from) || first == nil {
			first = sm
		}
		if !sm.at.Before(from) {
			u.PeakRSS = max(u.PeakRSS, sm.rss)
		}
		last = sm
	}
	if first == nil {
		if s.err != nil {
			return usage{}, s.err
		}
		return usage{}, nil
	}
	u.CPU = last.cpu - first.cpu
	return u, nil
}
