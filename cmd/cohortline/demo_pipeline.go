package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cohortline/cohortline/cmd/internal/console"
	"github.com/cohortline/cohortline/cohorts"
	"github.com/cohortline/cohortline/cohorts/publish"
	"github.com/cohortline/cohortline/pipeline"
)

// pipelineTotals sums the consumer's counters over its partitions.
type pipelineTotals struct {
	pipeline.CountTotals
	assigned, open int
}

func totalsOf(c *pipeline.Consumer) pipelineTotals {
	t := pipelineTotals{CountTotals: c.Totals()}
	for _, p := range c.Partitions() {
		t.assigned++
		t.open += p.OpenWindows
	}
	return t
}

// runPipeline runs the streaming pipeline, as run does, until it has read
// all records and every window of every partition is flushed: the idle
// timeout closes the last windows once the topic is drained.
func (d *demo) runPipeline(ctx context.Context, records int64) error {
	rekey, err := cohorts.NewRekeyer(d.cfg.Secret)
	if err != nil {
		return err
	}
	consumer, err := pipeline.NewConsumer(d.cfg.File.Kafka, &d.cfg.Spec, rekey, d.client.Writer(), d.log)
	if err != nil {
		return err
	}
	ctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	var runErr error
	go func() { defer close(done); runErr = consumer.Run(ctx) }()
	defer func() { stop(); <-done }()

	began := time.Now()
	tick := time.NewTicker(console.Interval)
	defer tick.Stop()
	var last pipelineTotals
	lastChange := began
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-done:
			return fmt.Errorf("the pipeline stopped before every window was flushed: %w", cmp.Or(runErr, errors.New("no error")))
		case <-tick.C:
		}
		now, t := time.Now(), totalsOf(consumer)
		if int64(t.Messages) >= records && t.assigned == d.opts.partitions && t.open == 0 {
			took := now.Sub(began)
			d.prog.Done("consumed", "%s events in %s (%s events/s): %s counted, %s over a contribution bound, %s duplicate, %s late, %s of minors and %s sensitive left out, %s dead-lettered",
				console.Count(t.Messages), console.Seconds(took), console.Rate(int64(t.Messages), took), console.Count(t.Counted), console.Count(t.Bounded),
				console.Count(t.Duplicates), console.Count(t.Late), console.Count(t.Minors), console.Count(t.Sensitive), console.Count(t.Rejected))
			d.prog.Done("flushed", "%s windows of %d partitions into %s.cohort_partials",
				console.Count(t.Flushes), d.opts.partitions, d.cfg.File.ClickHouse.Database)
			return nil
		}
		if t.Messages != last.Messages || t.Flushes != last.Flushes {
			last, lastChange = t, now
		} else if now.Sub(lastChange) >= demoStallTimeout {
			why := d.warned.String()
			if why == "" {
				why = "no warning logged"
			}
			return fmt.Errorf("the pipeline made no progress for %s (%s of %s events read, %s windows flushed): %s",
				demoStallTimeout, console.Count(t.Messages), console.Count(records), console.Count(t.Flushes), why)
		}
		d.prog.Update("consumed", "%s of %s events (%s events/s), %s windows flushed",
			console.Count(t.Messages), console.Count(records), console.Rate(int64(t.Messages), now.Sub(began)), console.Count(t.Flushes))
	}
}

// publish releases every flushed window, as publish does, one at a time
// to show progress.
func (d *demo) publish(ctx context.Context) error {
	pc, err := d.cfg.Publisher()
	if err != nil {
		return err
	}
	pub, err := publish.NewPublisher(pc, newStore(d.cfg, d.client, "demo"))
	if err != nil {
		return err
	}
	// The databases are new: every flushed window is the demo's.
	windows, err := d.client.FlushedWindows(ctx, d.topic, time.Unix(0, 0))
	if err != nil {
		return err
	}
	if len(windows) == 0 {
		return errors.New("the pipeline flushed no window: nothing to publish")
	}
	began := time.Now()
	session, err := pub.Begin(ctx) // one lease for all the windows
	if err != nil {
		return err
	}
	defer session.Close(ctx)
	var s publish.Stats
	for i, w := range windows {
		d.prog.Update("published", "window %s (%d of %d)", w.Start.Format("2006-01-02 15:04"), i+1, len(windows))
		results, err := session.PublishRange(ctx, w.Start, w.End)
		if err != nil {
			return err
		}
		for _, r := range results {
			s.Rows += r.Stats.Rows
			s.Finest += r.Stats.Finest
			s.PublishedFinest += r.Stats.PublishedFinest
			s.Merged += r.Stats.Merged
			s.Suppressed += r.Stats.Suppressed
		}
	}
	if err := session.Close(ctx); err != nil {
		return err
	}
	d.prog.Done("published", "%d windows in %s: %s rows from %s finest cohorts (%s as themselves, %s merged into generalized rows, %s suppressed); k=%d, ε=%g per window",
		len(windows), console.Seconds(time.Since(began)), console.Count(s.Rows), console.Count(s.Finest), console.Count(s.PublishedFinest), console.Count(s.Merged), console.Count(s.Suppressed),
		d.cfg.Spec.K, d.cfg.Spec.Privacy.Epsilon)
	return nil
}
