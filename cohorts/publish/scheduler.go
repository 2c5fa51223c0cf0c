package publish

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/cohortline/cohortline/cohorts"
	"github.com/cohortline/cohortline/schemas"
)

// autoPublishLookback is how far back the Scheduler looks for windows to
// publish, by the wall-clock time of their latest flush (event times may
// be old: a replay, a late producer): windows untouched for longer are the
// business of `cohortline publish` and backfills.
const autoPublishLookback = 48 * time.Hour

// FlushLog is what the Scheduler reads of the flushes and releases:
// sinks/clickhouse's Client.
type FlushLog interface {
	// FlushedWindows returns the windows of topic flushed at or after since
	// (wall clock), oldest first.
	FlushedWindows(ctx context.Context, topic string, since time.Time) ([]schemas.FlushedWindow, error)
	// PartitionWatermarks returns, per partition of topic, the highest
	// watermark streaming flushed with (epoch ms).
	PartitionWatermarks(ctx context.Context, topic string) (map[int32]int64, error)
	// LastReleases returns, per window start at or after since, when
	// release last published it.
	LastReleases(ctx context.Context, release string, since time.Time) (map[time.Time]time.Time, error)
}

// Scheduler publishes windows from inside `cohortline run`, on exactly one
// instance: the one that owns partition 0 of the topic (a rebalance moves
// the job with the partition). A window is due when every partition has
// flushed past it (its watermark at a flush passed the window's end plus
// the allowed lateness) or when max_wait has passed since its first
// flush; it is published again when a flush arrived after its last
// release (stragglers). Republishing identical partials spends no budget.
// The due windows of a tick are published under one publish lease; while
// another publisher holds it (a publish or backfill by hand), the tick
// waits up to publish.lease_wait, then tries again at the next one.
type Scheduler struct {
	Settings  Settings // Interval and MaxWait
	Spec      cohorts.Spec
	Topic     string
	Publisher *Publisher
	Flushes   FlushLog
	// Partitions returns how many partitions Topic has now.
	Partitions func(ctx context.Context) (int, error)
	// Owns reports whether this instance is assigned a partition now.
	Owns func(partition int) bool
	Log  *slog.Logger
	Now  func() time.Time // default time.Now
}

// Run publishes what is due every Settings.Interval until ctx is done.
func (a *Scheduler) Run(ctx context.Context) {
	if a.Now == nil {
		a.Now = time.Now
	}
	t := time.NewTicker(a.Settings.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !a.Owns(0) {
			continue
		}
		if err := a.tick(ctx); err != nil && ctx.Err() == nil {
			a.Log.Error("automatic publish failed; retrying at the next interval", "err", err)
		}
	}
}

// tick publishes the windows that are due.
func (a *Scheduler) tick(ctx context.Context) error {
	now := a.Now()
	since := now.Add(-autoPublishLookback)
	windows, err := a.Flushes.FlushedWindows(ctx, a.Topic, since)
	if err != nil || len(windows) == 0 {
		return err
	}
	partitions, err := a.Partitions(ctx)
	if err != nil {
		return err
	}
	watermarks, err := a.Flushes.PartitionWatermarks(ctx, a.Topic)
	if err != nil {
		return err
	}
	released, err := a.Flushes.LastReleases(ctx, a.Publisher.Release(), windows[0].Start)
	if err != nil {
		return err
	}
	var due []schemas.FlushedWindow
	complete := map[time.Time]bool{}
	for _, w := range windows {
		if last, ok := released[w.Start]; ok && last.After(w.LastFlush) {
			continue // nothing flushed since its last release
		}
		complete[w.Start] = a.complete(w, partitions, watermarks)
		if complete[w.Start] || now.Sub(w.FirstFlush) >= a.Settings.MaxWait {
			due = append(due, w)
		}
	}
	if len(due) == 0 {
		return nil
	}
	return a.publish(ctx, due, complete)
}

// publish releases the due windows in one session: under one lease.
func (a *Scheduler) publish(ctx context.Context, due []schemas.FlushedWindow, complete map[time.Time]bool) (err error) {
	session, err := a.Publisher.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, session.Close(ctx)) }()
	for _, w := range due {
		results, err := session.PublishRange(ctx, w.Start, w.End)
		if errors.Is(err, ErrBudget) {
			a.Log.Error("window not published: over the privacy budget", "window_start", w.Start, "err", err)
			continue
		}
		if err != nil {
			return err
		}
		for _, r := range results {
			logRelease(a.Log, r, complete[w.Start])
		}
	}
	return nil
}

// complete reports whether every partition has flushed past window w.
func (a *Scheduler) complete(w schemas.FlushedWindow, partitions int, watermarks map[int32]int64) bool {
	final := w.End.Add(a.Spec.AllowedLateness).UnixMilli()
	for p := range partitions {
		if wm, ok := watermarks[int32(p)]; !ok || wm < final {
			return false
		}
	}
	return true
}

func logRelease(log *slog.Logger, r Result, complete bool) {
	log.Info("window published", "window", r.Window.String(), "rows", r.Stats.Rows,
		"finest", r.Stats.Finest, "published_finest", r.Stats.PublishedFinest, "merged", r.Stats.Merged,
		"suppressed", r.Stats.Suppressed, "epsilon_spent", r.Ledger.EpsilonSpent,
		"republish", r.Ledger.Republish, "replaced", r.Replace, "all_partitions_final", complete, "lease_token", r.Ledger.LeaseToken)
}
