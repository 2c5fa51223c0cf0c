package main

import (
	"bytes"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// synthetic is a series sampled every 10 s for 30 minutes, f giving the
// value at t seconds.
func synthetic(limit soakLimit, f func(t float64) float64) *series {
	s := &series{Name: "x", Limit: limit}
	for t := 10 * time.Second; t <= 30*time.Minute; t += 10 * time.Second {
		s.add(t, f(t.Seconds()))
	}
	return s
}

func TestSoakVerdict(t *testing.T) {
	const mib = 1 << 20
	memory := soakLimit{FloorShare: 0.05}
	count := soakLimit{Floor: 10}
	rng := rand.New(rand.NewPCG(1, 2))
	noise := func(sd float64) float64 { return rng.NormFloat64() * sd }
	// sawtooth rises from lo by amplitude over each period, then drops.
	sawtooth := func(lo, amplitude, period float64) func(float64) float64 {
		return func(t float64) float64 { return lo + amplitude*math.Mod(t, period)/period }
	}
	cases := []struct {
		name  string
		s     *series
		grows bool
	}{
		{"flat memory with noise", synthetic(memory, func(float64) float64 { return 100*mib + noise(5*mib) }), false},
		{"flat goroutines with ±2 noise", synthetic(count, func(float64) float64 { return 40 + math.Round(noise(2)) }), false},
		{"GC sawtooth of the heap, 4-minute period", synthetic(memory, sawtooth(40*mib, 40*mib, 240)), false},
		{"GC sawtooth of the heap, 50 s period, with noise", synthetic(memory, func(t float64) float64 { return sawtooth(40*mib, 30*mib, 50)(t) + noise(2*mib) }), false},
		{"lag sawtooth of one window", synthetic(soakLimit{Floor: 600000}, sawtooth(100000, 600000, 60)), false},
		{"a step of 5 open files", synthetic(count, func(t float64) float64 { return 30 + 5*float64(min(int(t/900), 1)) }), false},
		{"heap leak of 20 MiB/h under noise", synthetic(memory, func(t float64) float64 { return 100*mib + 20*mib*t/3600 + noise(2*mib) }), true},
		{"RSS leak of 10% per half hour, no noise", synthetic(memory, func(t float64) float64 { return 100*mib + 10*mib*t/1800 }), true},
		// Under a sawtooth of amplitude A a leak shows once it outgrows
		// about A over the run (3σ = 0.87A): here 2A.
		{"heap leak under a GC sawtooth", synthetic(memory, func(t float64) float64 { return sawtooth(40*mib, 30*mib, 60)(t) + 60*mib*t/1800 }), true},
		{"a goroutine leaked a minute", synthetic(count, func(t float64) float64 { return 40 + math.Floor(t/60) + math.Round(noise(2)) }), true},
		{"lag that falls behind", synthetic(soakLimit{Floor: 600000}, func(t float64) float64 { return sawtooth(100000, 600000, 60)(t) + 1000*t }), true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tr := c.s.judge(180)
			if tr.TooFew || tr.N != 163 {
				t.Fatalf("judged %d samples (too few: %v), want the 163 from 3 minutes on", tr.N, tr.TooFew)
			}
			t.Logf("growth %.4g, σ %.4g, threshold %.4g: growth/threshold %.2f", tr.Growth, tr.Sigma, tr.Threshold, tr.Growth/tr.Threshold)
			if tr.Grew != c.grows {
				t.Errorf("grew = %v, want %v: growth %.4g, σ %.4g, threshold %.4g", tr.Grew, c.grows, tr.Growth, tr.Sigma, tr.Threshold)
			}
		})
	}
}

// A single ramp without its drop is what a leak looks like: the soak
// cannot tell it from a sawtooth whose period is the run's, and fails it
// (the comment on growthK explains why two periods are needed).
func TestSoakVerdictOnePeriodFails(t *testing.T) {
	s := synthetic(soakLimit{FloorShare: 0.05}, func(t float64) float64 { return 40 + 40*t/1800 })
	if tr := s.judge(0); !tr.Grew {
		t.Errorf("a ramp over the whole run passed: growth %.4g, threshold %.4g", tr.Growth, tr.Threshold)
	}
}

func TestSoakVerdictFit(t *testing.T) {
	s := &series{Name: "line"}
	for i := range 10 {
		s.add(time.Duration(i)*time.Minute, 5+2*float64(i)) // 2 a minute
	}
	tr := s.judge(60)
	if tr.N != 9 || math.Abs(tr.Slope*3600-120) > 1e-9 || math.Abs(tr.Growth-16) > 1e-9 || tr.Sigma > 1e-9 {
		t.Errorf("fit of y = 5 + 2/min from 1 min: n %d, slope/h %g, growth %g, σ %g; want 9, 120, 16, 0", tr.N, tr.Slope*3600, tr.Growth, tr.Sigma)
	}
	if tr.Start != 7 || tr.End != 23 || tr.Min != 7 || tr.Max != 23 || tr.Mean != 15 {
		t.Errorf("start %g end %g min %g max %g mean %g, want 7 23 7 23 15", tr.Start, tr.End, tr.Min, tr.Max, tr.Mean)
	}
}

// The verdict starts after the first commit of a closed window when that
// comes after the warm-up: before it, state only accumulates.
func TestSoakVerdictAfterFirstCommit(t *testing.T) {
	lag, rss := &series{Name: "lag (committed)", Limit: soakLimit{Floor: 1e6}}, &series{Name: "RSS", Limit: soakLimit{FloorShare: 0.05}}
	for i := 1; i <= 24; i++ {
		at := time.Duration(i) * 5 * time.Second
		lag.add(at, float64(10000*((i-1)%16))) // drops at 85 s
		rss.add(at, float64(min(i, 17)))       // grows until the drop, then stays put
	}
	if got := lag.firstDrop(); got != 85 {
		t.Fatalf("firstDrop = %g, want 85", got)
	}
	v := judgeAll([]*series{rss, lag}, time.Minute, lag)
	if tr := v.Trends[0]; tr.N != 8 || tr.Grew {
		t.Errorf("RSS judged over %d samples, grew %v; want the 8 from 85 s on, flat", tr.N, tr.Grew)
	}
	if v := judgeAll([]*series{rss}, time.Minute, nil); !v.Trends[0].Grew {
		t.Error("RSS judged from the warm-up did not grow; the test's series is wrong")
	}
	if len(v.failed()) > 0 {
		t.Errorf("failed() = %q, want nothing", v.failed())
	}
	stuck := &series{Name: "lag (committed)", Limit: soakLimit{Floor: 1e9}}
	for i := range 24 {
		stuck.add(time.Duration(i)*5*time.Second, float64(1000*i))
	}
	if got := judgeAll([]*series{stuck}, time.Minute, stuck).failed(); len(got) != 1 || !strings.Contains(got[0], "never dropped") {
		t.Errorf("a lag that never drops: failed() = %q, want it named as never committed", got)
	}
}

func TestSoakVerdictTooFewFails(t *testing.T) {
	s := &series{Name: "lag (committed)"}
	for i := range 8 {
		s.add(time.Duration(i)*10*time.Second, 1)
	}
	v := judgeAll([]*series{s}, 40*time.Second, nil)
	if got := v.failed(); len(got) != 1 || !strings.Contains(got[0], "too few") {
		t.Errorf("failed() = %q, want the series named as having too few samples", got)
	}
	var out bytes.Buffer
	v.print(&out)
	if !strings.Contains(out.String(), "verdict: FAILED") {
		t.Errorf("table does not say FAILED:\n%s", out.String())
	}
}

func TestSumMetrics(t *testing.T) {
	text := `# HELP go_goroutines Number of goroutines that currently exist.
# TYPE go_goroutines gauge
go_goroutines 42
go_memstats_heap_inuse_bytes 5.2428800e+07
cohortline_lag_messages{partition="0",topic="a{b}"} 10
cohortline_lag_messages{partition="1",topic="a"} 5 1700000000000
`
	m, err := sumMetrics(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	if m["go_goroutines"] != 42 || m["go_memstats_heap_inuse_bytes"] != 50<<20 || m["cohortline_lag_messages"] != 15 {
		t.Errorf("sumMetrics = %v", m)
	}
}
