package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"time"
)

// soakOptions are the flags of `cohortbench soak`. Zero values take the
// defaults of setDefaults, which the flag help repeats.
type soakOptions struct {
	// bench holds what the soak shares with the benchmark: the servers,
	// the cohortline binary, partitions, seed, --dir and --kafka-config.
	bench options

	Duration time.Duration // of producing and sampling; default 30m
	Rate     float64       // events per second produced; default 10000
	Users    int           // the generator's population; default 100000
	Interval time.Duration // between samples; default 10s
	// Warmup is left out of the verdict: the heap grows to its working
	// size while the first windows fill. Default a tenth of Duration, at
	// least 2m, at most half of Duration.
	Warmup time.Duration
	// Window is cohorts.window of the run: short, so that many windows
	// close and free their state during the soak; default 1m.
	Window time.Duration
	// Lateness is cohorts.allowed_lateness; default 10s.
	Lateness time.Duration

	// The growth floors (soak_verdict.go): MemFloor is a share of the
	// mean of RSS and heap (default 0.05); CountFloor is goroutines and
	// open files (default 10); LagFloor is messages (default one window
	// at Rate).
	MemFloor, CountFloor, LagFloor float64
}

func (o *soakOptions) setDefaults() {
	if o.Duration == 0 {
		o.Duration = 30 * time.Minute
	}
	if o.Rate == 0 {
		o.Rate = 10000
	}
	if o.Users == 0 {
		o.Users = 100000
	}
	if o.Interval == 0 {
		o.Interval = 10 * time.Second
	}
	if o.Warmup == 0 {
		o.Warmup = min(max(o.Duration/10, 2*time.Minute), o.Duration/2)
	}
	if o.Window == 0 {
		o.Window = time.Minute
	}
	if o.Lateness == 0 {
		o.Lateness = 10 * time.Second
	}
	if o.MemFloor == 0 {
		o.MemFloor = 0.05
	}
	if o.CountFloor == 0 {
		o.CountFloor = 10
	}
	if o.LagFloor == 0 {
		o.LagFloor = o.Rate * o.Window.Seconds()
	}
}

// Validate applies the defaults and checks o; errors name the flag.
func (o *soakOptions) Validate() error {
	o.setDefaults()
	// The soak runs neither the Flink job nor the curves. Its run
	// keeps cohortline's default idle timeout: the benchmark's 1 s would
	// close every partition's windows between two of the producer's
	// batches (a second apart at 10k events/s).
	o.bench.Flink, o.bench.MemUsers, o.bench.CurvePartitions, o.bench.Plot = "off", []int{}, []int{}, "none"
	if o.bench.IdleTimeout == 0 {
		o.bench.IdleTimeout = time.Minute
	}
	errs := []error{o.bench.Validate()}
	if o.Rate <= 0 || o.Users < 1 {
		errs = append(errs, errors.New("--rate and --users must be positive"))
	}
	if o.Interval < 100*time.Millisecond || o.Duration < o.Interval {
		errs = append(errs, fmt.Errorf("--interval %s: want at least 100ms and no more than --duration %s", o.Interval, o.Duration))
	}
	if o.Warmup < 0 || o.Warmup >= o.Duration {
		errs = append(errs, fmt.Errorf("--warmup %s: want at least 0 and less than --duration %s", o.Warmup, o.Duration))
	}
	if n := (o.Duration - o.Warmup) / o.Interval; n < minJudged {
		errs = append(errs, fmt.Errorf("--duration %s, --warmup %s and --interval %s leave %d samples to judge, want at least %d", o.Duration, o.Warmup, o.Interval, n, minJudged))
	}
	if o.MemFloor < 0 || o.CountFloor < 0 || o.LagFloor < 0 {
		errs = append(errs, errors.New("--mem-floor, --count-floor and --lag-floor must be at least 0"))
	}
	return errors.Join(errs...)
}

// parseSoakFlags reads the command line of `cohortbench soak`.
func parseSoakFlags(args []string, output io.Writer) (soakOptions, error) {
	var o soakOptions
	fs := flag.NewFlagSet("cohortbench soak", flag.ContinueOnError)
	fs.SetOutput(output)
	o.bench.sharedFlags(fs, "")
	fs.DurationVar(&o.Duration, "duration", 30*time.Minute, "how long to produce and sample")
	fs.Float64Var(&o.Rate, "rate", 10000, "events per second produced")
	fs.IntVar(&o.Users, "users", 100000, "the generator's population")
	fs.DurationVar(&o.Interval, "interval", 10*time.Second, "time between samples")
	fs.DurationVar(&o.Warmup, "warmup", 0, "samples left out of the verdict (default a tenth of --duration, at least 2m, at most half)")
	fs.DurationVar(&o.Window, "window", time.Minute, "cohorts.window of the run")
	fs.DurationVar(&o.Lateness, "lateness", 10*time.Second, "cohorts.allowed_lateness of the run")
	fs.Float64Var(&o.MemFloor, "mem-floor", 0.05, "growth of RSS and heap always allowed, as a share of their mean")
	fs.Float64Var(&o.CountFloor, "count-floor", 10, "growth of goroutines and open files always allowed")
	fs.Float64Var(&o.LagFloor, "lag-floor", 0, "growth of lag always allowed, in messages (default one window at --rate)")
	if err := fs.Parse(args); err != nil {
		return soakOptions{}, err
	}
	if fs.NArg() > 0 {
		return soakOptions{}, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	return o, o.Validate()
}
