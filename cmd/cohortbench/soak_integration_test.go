package main

import (
	"strings"
	"testing"
	"time"

	"github.com/cohortline/cohortline/deploy/devenv"
)

// TestSoakShort is the CI version of `make soak`: two minutes at 2,000
// events/s through `cohortline run` on the real servers, a sample every
// 5 s. It proves the machinery end to end: every series has a sample at
// every tick, the verdict finds no growth, and nothing is left behind.
//
// Two minutes are not a soak: the process fills its first windows (1 min,
// aligned to the clock, so the first closes 20 to 80 s after the start),
// and RSS steps up by 30–40 MiB at each of the first two closes, to about
// 150 MiB. The verdict judges only the samples after the first commit
// (firstDrop) and after a minute, and the thresholds are gross versions
// of the defaults, chosen so that a healthy run cannot reach them: memory
// may grow by half its mean over what is judged (two runs here grew 5
// and 34 MiB, about 70 allowed), goroutines and open files by 20 (their
// whole range over such a run was 16 and 7, most of it at the first
// flush), lag by two windows of messages (its sawtooth spans one window
// plus lateness and the producer's batching, 110,000 here). What CI can
// still catch: a process that dies, stops serving /metrics or never
// commits a window (NeverCommitted), a leak of memory per event (2,000
// events/s retaining 600 bytes each grows 70 MiB a minute), and goroutines
// or files leaked per batch or flush. The 30-minute run is the real
// measure.
func TestSoakShort(t *testing.T) {
	kafkaAddr, chAddr := devenv.Kafka(t), devenv.ClickHouse(t)
	opts := soakOptions{
		bench:    options{Kafka: kafkaAddr, ClickHouse: chAddr, Cohortline: buildCohortline(t), Dir: t.TempDir()},
		Duration: 2 * time.Minute, Rate: 2000, Users: 20000, Interval: 5 * time.Second, Warmup: time.Minute,
		MemFloor: 0.5, CountFloor: 20, LagFloor: 2 * 2000 * 60,
	}
	if err := opts.Validate(); err != nil {
		t.Fatal(err)
	}
	var samples strings.Builder
	began := time.Now()
	v, err := runSoak(t.Context(), opts, &samples, testLog{t})
	t.Logf("samples:\n%s", samples.String())
	if err != nil {
		t.Fatal(err)
	}
	var table strings.Builder
	v.print(&table)
	t.Logf("after %s:\n%s", time.Since(began).Round(time.Second), table.String())

	want := int(opts.Duration / opts.Interval)
	if len(v.Series) != 6 {
		t.Fatalf("%d series, want 6 (RSS, heap, goroutines, open files, two lags)", len(v.Series))
	}
	for i, s := range v.Series {
		if len(s.Y) < want-1 || v.Trends[i].TooFew {
			t.Errorf("%s: %d samples, want about %d", s.Name, len(s.Y), want)
		}
	}
	for i, s := range v.Series[:4] { // the lags may read 0 between batches
		if v.Trends[i].Min <= 0 {
			t.Errorf("%s: a sample read %g, want positive readings", s.Name, v.Trends[i].Min)
		}
	}
	if failed := v.failed(); len(failed) > 0 {
		t.Errorf("verdict: grew: %v", failed)
	}
	assertCleanedUp(t, kafkaAddr, chAddr, v.ID)
}
