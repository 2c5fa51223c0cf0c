package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/cohortline/cohortline/pipeline"
)

// runSoakCommand is `cohortbench soak`: its exit code is 0 when no series
// grew beyond its noise, 1 when one did or the soak failed, 2 for a bad
// command line.
func runSoakCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	opts, err := parseSoakFlags(args, stderr)
	if code, stop := flagsFailed(err, "cohortbench soak", stderr); stop {
		return code
	}
	v, err := runSoak(ctx, opts, stdout, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "cohortbench soak: FAILED: %v\n", err)
		return 1
	}
	v.print(stdout)
	if load, err := os.ReadFile("/proc/loadavg"); err == nil {
		fmt.Fprintf(stdout, "load average at the end (1, 5, 15 min): %s\n", strings.Join(strings.Fields(string(load))[:3], " "))
	}
	if len(v.failed()) > 0 {
		return 1
	}
	return 0
}

// runSoak runs `cohortline run` over a topic of its own while it produces
// opts.Rate events per second for opts.Duration, samples the process
// every opts.Interval (a line each on out) and judges the series. Every
// topic, group and database it made is deleted at the end, whatever
// happened.
func runSoak(ctx context.Context, opts soakOptions, out, progress io.Writer) (v soakVerdict, err error) {
	b, err := newBench(ctx, opts.bench, progress)
	if err != nil {
		return v, err
	}
	defer func() {
		if cerr := b.close(); err == nil {
			err = cerr
		}
	}()
	topic := b.name("soak")
	b.cleanup(func(ctx context.Context) error { return b.kafka.deleteTopics(ctx, topic) })
	if err := b.kafka.createTopic(ctx, topic, opts.bench.Partitions); err != nil {
		return v, err
	}
	listen, err := freePort()
	if err != nil {
		return v, err
	}
	rs := runSettings{window: opts.Window, lateness: opts.Lateness, publish: true, listen: listen}
	config, group, _, err := b.prepareRun("soak", topic, rs)
	if err != nil {
		return v, err
	}
	c, err := startChild(b.opts.Cohortline, filepath.Join(b.dir, group+".log"), nil, "run", "--config", config)
	if err != nil {
		return v, err
	}
	defer c.kill()
	probe := &soakProbe{pid: c.pid(), metrics: "http://" + listen + "/metrics", kafka: b.kafka, group: group, topic: topic, client: &http.Client{}}
	if err := waitReady(ctx, c, "http://"+listen+"/readyz"); err != nil {
		return v, err
	}
	b.logf("soak: cohortline run (pid %d) ready; producing %g events/s to %s for %s, a sample every %s", c.pid(), opts.Rate, topic, opts.Duration, opts.Interval)
	fmt.Fprintf(out, "soak: %s on %s; %g events/s for %s, a sample every %s, windows of %s, lateness %s\n",
		time.Now().UTC().Format("2006-01-02 15:04 MST"), machineInfo(), opts.Rate, opts.Duration, opts.Interval, opts.Window, opts.Lateness)
	all, err := b.soak(ctx, opts, c, probe, out)
	if err != nil {
		return v, err
	}
	runCPU, err := procCPU(c.pid())
	if err != nil {
		return v, err
	}
	ownCPU, err := procCPU(os.Getpid())
	if err != nil {
		return v, err
	}
	elapsed := time.Since(c.started)
	if err := c.stop(time.Minute); err != nil {
		return v, fmt.Errorf("stopping the soak's run: %w\n%s", err, c.logTail(20))
	}
	v = judgeAll(all, opts.Warmup, all[4]) // the committed lag
	v.ID = b.id
	v.CPU = fmt.Sprintf("cohortline run used %.0f CPU s in %s (%.2f cores); the producer and sampler %.0f CPU s (%.2f cores)",
		runCPU.Seconds(), elapsed.Round(time.Second), runCPU.Seconds()/elapsed.Seconds(), ownCPU.Seconds(), ownCPU.Seconds()/elapsed.Seconds())
	return v, nil
}

// maxMissed is how many samples in a row may fail before the soak does:
// a process that cannot be read for that long (30 s at the default
// interval) is a failure, one slow request is not.
const maxMissed = 2

// soak produces and samples for opts.Duration and returns the series.
func (b *bench) soak(ctx context.Context, opts soakOptions, c *child, probe *soakProbe, out io.Writer) ([]*series, error) {
	memory := soakLimit{FloorShare: opts.MemFloor}
	count := soakLimit{Floor: opts.CountFloor}
	lag := soakLimit{Floor: opts.LagFloor}
	rss, heap := &series{Name: "RSS", Unit: "B", Limit: memory}, &series{Name: "heap in use", Unit: "B", Limit: memory}
	gor, fds := &series{Name: "goroutines", Limit: count}, &series{Name: "open files", Limit: count}
	committed, fetch := &series{Name: "lag (committed)", Limit: lag}, &series{Name: "lag (fetched)", Limit: lag}
	all := []*series{rss, heap, gor, fds, committed, fetch}

	start := time.Now()
	g, err := soakData(opts.bench.Seed, opts.Users, opts.Rate, start, opts.Duration)
	if err != nil {
		return nil, err
	}
	var sent atomic.Int64
	grp, gctx := errgroup.WithContext(ctx)
	produceCtx, stopProducing := context.WithCancel(gctx)
	defer stopProducing()
	grp.Go(func() error {
		err := pipeline.Produce(produceCtx, b.opts.kafka.dialer, b.opts.Kafka, probe.topic, b.opts.Partitions, pacedRecords(produceCtx, g, opts.Rate, start, &sent), nil)
		if produceCtx.Err() != nil {
			return nil // stopped at the end of the soak
		}
		return err
	})
	grp.Go(func() error {
		defer stopProducing()
		tick := time.NewTicker(opts.Interval)
		defer tick.Stop()
		missed := 0
		for {
			select {
			case <-gctx.Done():
				return gctx.Err()
			case <-c.done:
				return fmt.Errorf("cohortline run exited during the soak: %v\n%s", c.err, c.logTail(20))
			case <-tick.C:
			}
			at := time.Since(start)
			s, err := probe.take(gctx, at)
			switch {
			case err != nil && gctx.Err() == nil && missed < maxMissed:
				// A machine loaded by other work may hold up one request
				// (a Kafka admin call timed out at a load average of
				// 120): the sample is missed, said, and left out.
				missed++
				fmt.Fprintf(out, "soak %6s  sample missed (%d in a row): %v\n", at.Round(time.Second), missed, err)
			case err != nil:
				return fmt.Errorf("sampling at %s (%d samples in a row missed): %w", at.Round(time.Second), missed+1, err)
			default:
				missed = 0
				rss.add(at, float64(s.RSS))
				heap.add(at, float64(s.Heap))
				gor.add(at, float64(s.Goroutines))
				fds.add(at, float64(s.OpenFiles))
				committed.add(at, float64(s.Lag))
				fetch.add(at, float64(s.FetchLag))
				fmt.Fprintf(out, "soak %6s  rss %s  heap %s  goroutines %d  open files %d  lag %d committed, %d fetched  sent %d\n",
					at.Round(time.Second), formatValue(float64(s.RSS), "B"), formatValue(float64(s.Heap), "B"), s.Goroutines, s.OpenFiles, s.Lag, s.FetchLag, sent.Load())
			}
			if at >= opts.Duration {
				return nil
			}
		}
	})
	if err := grp.Wait(); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("soak interrupted after %s: %w", time.Since(start).Round(time.Second), ctx.Err())
		}
		return nil, err
	}
	return all, nil
}

// freePort returns a loopback address no one listens on now, for the
// run's HTTP listener.
func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("finding a free port for the run's /metrics: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// waitReady polls url until it answers 200, for at most a minute; it fails
// if the child exits first.
func waitReady(ctx context.Context, c *child, url string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	last := "no answer"
	for {
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %s: %w\n%s", url, last, ctx.Err(), c.logTail(20))
		case <-c.done:
			return fmt.Errorf("cohortline run exited before it was ready: %v\n%s", c.err, c.logTail(20))
		case <-tick.C:
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			last = err.Error()
			continue
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return nil
		}
		last = strings.TrimSpace(resp.Status)
	}
}
