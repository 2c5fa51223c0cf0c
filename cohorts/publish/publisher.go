package publish

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/cohortline/cohortline/cohorts"
	"github.com/cohortline/cohortline/cohorts/privacy"
)

// LedgerEntry is one row of privacy_ledger: one release of one window.
type LedgerEntry struct {
	Window      cohorts.Window
	Release     string  // ReleaseName of the spec
	Epsilon     float64 // the spec's ε per release; 0 without noise
	Delta       float64
	Bounds      string // the contribution bounds applied, "events=100,call_seconds=3600"
	SpecHash    string
	CodeVersion string
	// InputDigest is the hex Digest of the window's partials.
	InputDigest    string
	RowsPublished  int
	RowsSuppressed int // finest cohorts suppressed (in no row)
	// Republish is true when the window had a release before.
	Republish bool
	// EpsilonSpent is what this release adds to the window's and the day's
	// spending: Epsilon, or 0 when an earlier release of the same spec
	// covered exactly the same partials (the same noise, so nothing new is
	// revealed).
	EpsilonSpent float64
	Noise        bool // false only in the no-noise test mode
	ReleasedAt   time.Time
}

// Store is where a Publisher reads partials and writes releases:
// sinks/clickhouse in production.
type Store interface {
	// Partials returns the finest partials of the windows starting in
	// [from, to), summed over partitions, by window start (epoch ms).
	Partials(ctx context.Context, spec cohorts.Spec, from, to time.Time) (map[int64][]cohorts.Partial, error)
	// Ledger returns the ledger entries of the windows starting in [from, to).
	Ledger(ctx context.Context, from, to time.Time) ([]LedgerEntry, error)
	// AppendLedger records a release; it is written before the rows.
	AppendLedger(ctx context.Context, e LedgerEntry) error
	// PublishedCohorts returns the cohort ids that readers see for window.
	PublishedCohorts(ctx context.Context, window cohorts.Window) ([]uint64, error)
	// WriteRows publishes the rows of window. With replace, readers must
	// afterwards see only these rows for the window (a republish whose
	// cohorts are not a superset of the published ones); without it,
	// writing the rows again with a later publish time is enough.
	WriteRows(ctx context.Context, window cohorts.Window, rows []Row, release string, publishedAt time.Time, replace bool) error
}

// Budget is the most ε that releases may spend, per window and per UTC day
// (over all windows that start on it). Zero means no limit.
type Budget struct {
	PerWindow float64
	PerDay    float64
}

// ErrBudget is wrapped by the error of a release refused for its budget.
var ErrBudget = errors.New("privacy budget exceeded")

// Config is what a Publisher needs.
type Config struct {
	Spec        cohorts.Spec
	Noise       Noise // the zero Noise: the no-noise test mode
	Budget      Budget
	CodeVersion string
	Now         func() time.Time // default time.Now
}

// Publisher releases windows: Release over a Store, under the budget.
type Publisher struct {
	cfg     Config
	release string
	store   Store
}

// NewPublisher checks cfg: the spec, its δ against the threshold's (see
// privacy.CheckDelta) and the budget against one release's ε.
func NewPublisher(cfg Config, store Store) (*Publisher, error) {
	if err := cfg.Spec.Validate(); err != nil {
		return nil, err
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	eps := cfg.Spec.Privacy.Epsilon
	if cfg.Noise.Enabled() {
		if cfg.Noise.Budget == nil {
			b, err := privacy.Split(cfg.Spec, eps)
			if err != nil {
				return nil, err
			}
			cfg.Noise.Budget = &b
		}
		if err := privacy.CheckDelta(cfg.Spec.Privacy.Delta, cfg.Noise.Budget, cfg.Spec.K); err != nil {
			return nil, fmt.Errorf("cohort spec: privacy.delta: %w", err)
		}
		for name, b := range map[string]float64{"per_window": cfg.Budget.PerWindow, "per_day": cfg.Budget.PerDay} {
			if b != 0 && b < eps {
				return nil, fmt.Errorf("publish.budget.%s: %g is less than one release's epsilon %g: nothing could ever be published", name, b, eps)
			}
		}
	}
	return &Publisher{cfg: cfg, release: ReleaseName(cfg.Spec), store: store}, nil
}

// ReleaseName names what a release is (DESIGN.md, invariant 4): the spec's
// version and hash and the feature set, e.g. "spec1-460508c6ea34-fs1".
func ReleaseName(spec cohorts.Spec) string {
	return fmt.Sprintf("spec%d-%s-fs%d", spec.Version, spec.Hash()[:12], cohorts.FeatureSetVersion)
}

// Release returns the publisher's release name.
func (p *Publisher) Release() string { return p.release }

// Result is what publishing one window did.
type Result struct {
	Window  cohorts.Window
	Stats   Stats
	Ledger  LedgerEntry
	Replace bool // earlier rows of the window were replaced
}

// PublishRange publishes every window that starts in [from, to) and has
// partials, oldest first. It stops at the first error; the windows before
// it are published.
func (p *Publisher) PublishRange(ctx context.Context, from, to time.Time) ([]Result, error) {
	byWindow, err := p.store.Partials(ctx, p.cfg.Spec, from, to)
	if err != nil {
		return nil, fmt.Errorf("reading partials of [%s, %s): %w", from.UTC().Format(time.RFC3339), to.UTC().Format(time.RFC3339), err)
	}
	starts := make([]int64, 0, len(byWindow))
	for s := range byWindow {
		starts = append(starts, s)
	}
	slices.Sort(starts)
	var results []Result
	for _, s := range starts {
		r, err := p.publish(ctx, p.cfg.Spec.WindowOf(s), byWindow[s])
		if err != nil {
			return results, err
		}
		results = append(results, r)
	}
	return results, nil
}

// publish releases one window: budget check, ledger entry, then rows. The
// ledger goes first so that a crash between the two over-counts the
// budget rather than publishing noise that no ledger row accounts for.
func (p *Publisher) publish(ctx context.Context, w cohorts.Window, partials []cohorts.Partial) (Result, error) {
	digest := Digest(partials)
	spec := p.cfg.Spec
	entry := LedgerEntry{
		Window: w, Release: p.release,
		Epsilon: spec.Privacy.Epsilon, Delta: spec.Privacy.Delta,
		Bounds:   fmt.Sprintf("events=%d,call_seconds=%d", spec.Bounds.Events, spec.Bounds.CallSeconds),
		SpecHash: spec.Hash(), CodeVersion: p.cfg.CodeVersion,
		InputDigest: hex.EncodeToString(digest[:]),
		Noise:       p.cfg.Noise.Enabled(),
		ReleasedAt:  p.cfg.Now().UTC().Truncate(time.Second),
	}
	if !entry.Noise {
		entry.Epsilon, entry.Delta = 0, 0
	}
	if err := p.checkBudget(ctx, &entry); err != nil {
		return Result{}, err
	}
	scope := privacy.Scope{Release: p.release, WindowStart: w.Start, InputDigest: digest}
	rows, stats, err := Release(spec, p.cfg.Noise, scope, w, partials)
	if err != nil {
		return Result{}, err
	}
	entry.RowsPublished, entry.RowsSuppressed = stats.Rows, stats.Suppressed

	published, err := p.store.PublishedCohorts(ctx, w)
	if err != nil {
		return Result{}, fmt.Errorf("reading the published cohorts of %s: %w", w, err)
	}
	replace := !coversAll(rows, published)
	if err := p.store.AppendLedger(ctx, entry); err != nil {
		return Result{}, fmt.Errorf("writing the ledger entry of %s: %w", w, err)
	}
	if err := p.store.WriteRows(ctx, w, rows, p.release, entry.ReleasedAt, replace); err != nil {
		return Result{}, fmt.Errorf("writing the rows of %s: %w", w, err)
	}
	return Result{Window: w, Stats: stats, Ledger: entry, Replace: replace}, nil
}

// checkBudget sets entry's Republish and EpsilonSpent from the ledger and
// refuses a release over the budget.
func (p *Publisher) checkBudget(ctx context.Context, entry *LedgerEntry) error {
	w := entry.Window
	day := time.UnixMilli(w.Start).UTC().Truncate(24 * time.Hour)
	past, err := p.store.Ledger(ctx, day, day.Add(24*time.Hour))
	if err != nil {
		return fmt.Errorf("reading the privacy ledger of %s: %w", day.Format(time.DateOnly), err)
	}
	var window, daily float64
	entry.EpsilonSpent = entry.Epsilon
	for _, e := range past {
		daily += e.EpsilonSpent
		if e.Window.Start != w.Start {
			continue
		}
		window += e.EpsilonSpent
		entry.Republish = true
		if e.Release == entry.Release && e.InputDigest == entry.InputDigest && e.Noise == entry.Noise {
			entry.EpsilonSpent = 0 // the same numbers again
		}
	}
	if !entry.Noise || entry.EpsilonSpent == 0 {
		return nil
	}
	b := p.cfg.Budget
	const slack = 1e-9 // float sums of equal ε must not refuse the last allowed release
	if b.PerWindow > 0 && window+entry.EpsilonSpent > b.PerWindow+slack {
		return fmt.Errorf("%w: window %s has spent epsilon %g; this release would bring it to %g, over publish.budget.per_window %g; nothing was written",
			ErrBudget, w, window, window+entry.EpsilonSpent, b.PerWindow)
	}
	if b.PerDay > 0 && daily+entry.EpsilonSpent > b.PerDay+slack {
		return fmt.Errorf("%w: day %s has spent epsilon %g; releasing window %s would bring it to %g, over publish.budget.per_day %g; nothing was written",
			ErrBudget, day.Format(time.DateOnly), daily, w, daily+entry.EpsilonSpent, b.PerDay)
	}
	if math.IsNaN(window) || math.IsNaN(daily) {
		return fmt.Errorf("%w: the ledger of %s holds a NaN epsilon", ErrBudget, day.Format(time.DateOnly))
	}
	return nil
}

// coversAll reports whether rows include every cohort id of published.
func coversAll(rows []Row, published []uint64) bool {
	ids := make(map[uint64]bool, len(rows))
	for _, r := range rows {
		ids[r.ID] = true
	}
	for _, id := range published {
		if !ids[id] {
			return false
		}
	}
	return true
}
