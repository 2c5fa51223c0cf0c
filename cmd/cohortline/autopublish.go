package main

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/cohortline/cohortline/cohorts"
	"github.com/cohortline/cohortline/cohorts/publish"
	"github.com/cohortline/cohortline/pipeline"
	"github.com/cohortline/cohortline/sinks/clickhouse"
)

// autoPublishLookback is how far back run looks for windows to publish,
// by the wall-clock time of their latest flush (event times may be old: a
// replay, a late producer): windows untouched for longer are the business
// of `cohortline publish` and backfills.
const autoPublishLookback = 48 * time.Hour

// autoPublisher publishes windows from inside run, on exactly one
// instance: the one that owns partition 0 of the topic (a rebalance moves
// the job with the partition). A window is due when every partition has
// flushed past it (its watermark at a flush passed the window's end plus
// the allowed lateness) or when max_wait has passed since its first
// flush; it is published again when a flush arrived after its last
// release (stragglers). Republishing identical partials spends no budget.
// The due windows of a tick are published under one publish lease; while
// another publisher holds it (a publish or backfill by hand), the tick
// waits up to publish.lease_wait, then tries again at the next one.
type autoPublisher struct {
	cfg     publishConfig
	spec    cohorts.Spec
	topic   string
	brokers []string
	pub     *publish.Publisher
	client  *clickhouse.Client
	owns    func(partition int) bool
	log     *slog.Logger
	now     func() time.Time
}

func (a *autoPublisher) run(ctx context.Context) {
	t := time.NewTicker(a.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !a.owns(0) {
			continue
		}
		if err := a.tick(ctx); err != nil && ctx.Err() == nil {
			a.log.Error("automatic publish failed; retrying at the next interval", "err", err)
		}
	}
}

// tick publishes the windows that are due.
func (a *autoPublisher) tick(ctx context.Context) error {
	now := a.now()
	since := now.Add(-autoPublishLookback)
	windows, err := a.client.FlushedWindows(ctx, a.topic, since)
	if err != nil || len(windows) == 0 {
		return err
	}
	partitions, err := pipeline.PartitionCount(ctx, a.brokers, a.topic)
	if err != nil {
		return err
	}
	watermarks, err := a.client.PartitionWatermarks(ctx, a.topic)
	if err != nil {
		return err
	}
	released, err := a.client.LastReleases(ctx, a.pub.Release(), windows[0].Start)
	if err != nil {
		return err
	}
	var due []clickhouse.FlushedWindow
	complete := map[time.Time]bool{}
	for _, w := range windows {
		if last, ok := released[w.Start]; ok && last.After(w.LastFlush) {
			continue // nothing flushed since its last release
		}
		complete[w.Start] = a.complete(w, partitions, watermarks)
		if complete[w.Start] || now.Sub(w.FirstFlush) >= a.cfg.MaxWait {
			due = append(due, w)
		}
	}
	if len(due) == 0 {
		return nil
	}
	return a.publish(ctx, due, complete)
}

// publish releases the due windows in one session: under one lease.
func (a *autoPublisher) publish(ctx context.Context, due []clickhouse.FlushedWindow, complete map[time.Time]bool) (err error) {
	session, err := a.pub.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, session.Close(ctx)) }()
	for _, w := range due {
		results, err := session.PublishRange(ctx, w.Start, w.End)
		if errors.Is(err, publish.ErrBudget) {
			a.log.Error("window not published: over the privacy budget", "window_start", w.Start, "err", err)
			continue
		}
		if err != nil {
			return err
		}
		for _, r := range results {
			logRelease(a.log, r, complete[w.Start])
		}
	}
	return nil
}

// complete reports whether every partition has flushed past window w.
func (a *autoPublisher) complete(w clickhouse.FlushedWindow, partitions int, watermarks map[int32]int64) bool {
	final := w.End.Add(a.spec.AllowedLateness).UnixMilli()
	for p := range partitions {
		if wm, ok := watermarks[int32(p)]; !ok || wm < final {
			return false
		}
	}
	return true
}

func logRelease(log *slog.Logger, r publish.Result, complete bool) {
	log.Info("window published", "window", r.Window.String(), "rows", r.Stats.Rows,
		"finest", r.Stats.Finest, "published_finest", r.Stats.PublishedFinest, "merged", r.Stats.Merged,
		"suppressed", r.Stats.Suppressed, "epsilon_spent", r.Ledger.EpsilonSpent,
		"republish", r.Ledger.Republish, "replaced", r.Replace, "all_partitions_final", complete, "lease_token", r.Ledger.LeaseToken)
}
