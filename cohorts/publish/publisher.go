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

// The modes of a deployment (the config file's mode). A published
// database holds releases of one mode only (see ErrMode).
const (
	ModeProduction  = "production"
	ModeDevelopment = "development"
	ModeTest        = "test"
)

// Config is what a Publisher needs.
type Config struct {
	Spec        cohorts.Spec
	Noise       Noise // the zero Noise: the no-noise test mode
	Budget      Budget
	CodeVersion string
	// Mode is ModeProduction, ModeDevelopment or ModeTest: recorded with
	// every release, and the published database must hold no release of
	// another mode.
	Mode string
	// KeyID is privacy.KeyID of the secret. With noise it may be left
	// empty: the Noiser's is used, and one given must equal it.
	KeyID string
	Now   func() time.Time // default time.Now
}

// Publisher releases windows: Release over a Store, under the budget.
type Publisher struct {
	cfg     Config
	release string
	store   Store
}

// NewPublisher checks cfg: the spec, its δ against the threshold's (see
// privacy.CheckDelta), the budget against one release's ε, the mode and
// the key id.
func NewPublisher(cfg Config, store Store) (*Publisher, error) {
	if err := cfg.Spec.Validate(); err != nil {
		return nil, err
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	switch cfg.Mode {
	case ModeProduction, ModeDevelopment, ModeTest:
	default:
		return nil, fmt.Errorf("publish: mode %q is none of %s, %s, %s", cfg.Mode, ModeProduction, ModeDevelopment, ModeTest)
	}
	eps := cfg.Spec.Privacy.Epsilon
	if cfg.Spec.FeatureSet == cohorts.FeatureSetV2Version {
		eps = 0 // no pure ε to check the older limits against
		if cfg.Budget.Day.IsZero() {
			cfg.Budget.Day = DefaultBudget.Day
		}
		if cfg.Budget.Week.IsZero() {
			cfg.Budget.Week = DefaultBudget.Week
		}
		if err := CheckAllowances(cfg.Budget); err != nil {
			return nil, err
		}
	}
	if cfg.Noise.Enabled() && cfg.Spec.FeatureSet == cohorts.FeatureSetV2Version {
		if cfg.Noise.ZBudget == nil {
			z, err := privacy.SplitZCDP(cfg.Spec)
			if err != nil {
				return nil, err
			}
			cfg.Noise.ZBudget = &z
		}
		cfg.Noise.Budget = nil
		if err := CheckNoise(cfg.Spec); err != nil {
			return nil, fmt.Errorf("cohort spec: %w", err)
		}
		if err := checkOneRelease(cfg.Budget, cfg.Noise.ZBudget.RhoSpent(), cfg.Noise.ZBudget.ReleaseDelta(cfg.Spec.K)); err != nil {
			return nil, err
		}
	}
	if cfg.Noise.Enabled() && cfg.Spec.FeatureSet != cohorts.FeatureSetV2Version {
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
	if cfg.Noise.Enabled() {
		switch id := cfg.Noise.Noiser.KeyID(); {
		case cfg.KeyID == "":
			cfg.KeyID = id
		case cfg.KeyID != id:
			return nil, fmt.Errorf("BUG: publish: key id %s is not the noise secret's %s", cfg.KeyID, id)
		}
	}
	return &Publisher{cfg: cfg, release: ReleaseName(cfg.Spec), store: store}, nil
}

// ReleaseName names what a release is (DESIGN.md, invariant 4): the spec's
// version and hash and the feature set, e.g. "spec1-460508c6ea34-fs1".
func ReleaseName(spec cohorts.Spec) string {
	return fmt.Sprintf("spec%d-%s-fs%d", spec.Version, spec.Hash()[:12], spec.FeatureSet)
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

// Session is a Publisher holding the publish lease: Begin makes one,
// Close ends it. Only one session at a time publishes over one Store's
// ledger.
type Session struct {
	p     *Publisher
	lease Lease
}

// Begin takes the publish lease, checks that the published database may
// take this publisher's releases (checkMode) and lets the store repair
// what it derives from the published rows (Store.RepairLatest). The
// caller must Close the session.
func (p *Publisher) Begin(ctx context.Context) (*Session, error) {
	lease, err := p.store.AcquireLease(ctx)
	if err != nil {
		return nil, fmt.Errorf("taking the publish lease: %w", err)
	}
	if err := p.checkMode(ctx); err != nil {
		return nil, errors.Join(err, lease.Release(ctx))
	}
	if err := p.store.RepairLatest(ctx, lease); err != nil {
		return nil, errors.Join(fmt.Errorf("repairing the lookup table: %w", err), lease.Release(ctx))
	}
	return &Session{p: p, lease: lease}, nil
}

// Close gives the lease back.
func (s *Session) Close(ctx context.Context) error {
	if err := s.lease.Release(ctx); err != nil {
		return fmt.Errorf("releasing the publish lease: %w", err)
	}
	return nil
}

// PublishRange publishes the windows of [from, to) in a session of its
// own: Begin, Session.PublishRange, Close.
func (p *Publisher) PublishRange(ctx context.Context, from, to time.Time) (results []Result, err error) {
	s, err := p.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, s.Close(ctx)) }()
	return s.PublishRange(ctx, from, to)
}

// PublishRange publishes every window that starts in [from, to) and has
// partials, oldest first. It stops at the first error; the windows before
// it are published.
func (s *Session) PublishRange(ctx context.Context, from, to time.Time) ([]Result, error) {
	p := s.p
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
	for _, start := range starts {
		r, err := s.publish(ctx, p.cfg.Spec.WindowOf(start), byWindow[start])
		if err != nil {
			return results, err
		}
		results = append(results, r)
	}
	return results, nil
}

// publish releases one window: budget check, ledger entry, the release in
// the published database, then rows, each write right after a check that
// the lease is still held. The ledger goes first so that a crash between
// the writes over-counts the budget rather than publishing noise that no
// ledger row accounts for.
func (s *Session) publish(ctx context.Context, w cohorts.Window, partials []cohorts.Partial) (Result, error) {
	p := s.p
	digest := Digest(partials)
	entry := p.entry(w, digest)
	entry.LeaseToken = s.lease.Token()
	if err := p.checkBudget(ctx, &entry); err != nil {
		return Result{}, err
	}
	scope := privacy.Scope{Release: p.release, WindowStart: w.Start, InputDigest: digest}
	rows, stats, err := Release(p.cfg.Spec, p.cfg.Noise, scope, w, partials)
	if err != nil {
		return Result{}, err
	}
	entry.RowsPublished, entry.RowsSuppressed = stats.Rows, stats.Suppressed

	published, err := p.store.PublishedCohorts(ctx, w)
	if err != nil {
		return Result{}, fmt.Errorf("reading the published cohorts of %s: %w", w, err)
	}
	replace := !coversAll(rows, published)
	if err := s.check(ctx, w, "its ledger entry"); err != nil {
		return Result{}, err
	}
	if err := p.store.AppendLedger(ctx, entry); err != nil {
		return Result{}, fmt.Errorf("writing the ledger entry of %s: %w", w, err)
	}
	if err := s.check(ctx, w, "its release"); err != nil {
		return Result{}, err
	}
	if err := p.store.AppendPublishedRelease(ctx, entry); err != nil {
		return Result{}, fmt.Errorf("recording the release of %s in the published database: %w", w, err)
	}
	if noise := p.SlotNoise(); len(noise) > 0 {
		if err := p.store.WriteNoise(ctx, p.release, p.cfg.Spec.FeatureSet, noise); err != nil {
			return Result{}, fmt.Errorf("recording the noise of release %s: %w", p.release, err)
		}
	}
	if err := s.check(ctx, w, "its rows"); err != nil {
		return Result{}, err
	}
	if err := p.store.WriteRows(ctx, s.lease, w, rows, p.release, entry.ReleasedAt, replace); err != nil {
		return Result{}, fmt.Errorf("writing the rows of %s: %w", w, err)
	}
	return Result{Window: w, Stats: stats, Ledger: entry, Replace: replace}, nil
}

// check stops a publish whose lease is gone before it writes what.
func (s *Session) check(ctx context.Context, w cohorts.Window, what string) error {
	if err := s.lease.Check(ctx); err != nil {
		return fmt.Errorf("publishing %s: stopped before writing %s: %w", w, what, err)
	}
	return nil
}

// entry is the ledger entry of a release of w, whose partials have
// digest, before the budget check.
func (p *Publisher) entry(w cohorts.Window, digest [32]byte) LedgerEntry {
	spec := p.cfg.Spec
	e := LedgerEntry{
		Window: w, Release: p.release,
		Bounds:   fmt.Sprintf("events=%d,call_seconds=%d", spec.Bounds.Events, spec.Bounds.CallSeconds),
		SpecHash: spec.Hash(), CodeVersion: p.cfg.CodeVersion,
		InputDigest: hex.EncodeToString(digest[:]),
		KeyID:       p.cfg.KeyID,
		Noise:       p.cfg.Noise.Enabled(),
		Mode:        p.cfg.Mode,
		ReleasedAt:  p.cfg.Now().UTC().Truncate(time.Second),
	}
	switch n := p.cfg.Noise; {
	case !e.Noise:
	case n.ZBudget != nil:
		e.Delta, e.Rho = spec.Privacy.Delta, n.ZBudget.RhoSpent()
		e.ReleaseDelta = n.ZBudget.ReleaseDelta(spec.K)
		pure := 0.0
		for _, b := range n.ZBudget.Blocks {
			if !b.Off && b.Mechanism != privacy.Laplace {
				pure = math.NaN()
			}
			pure += b.Epsilon
		}
		if !math.IsNaN(pure) {
			e.Epsilon = pure
		}
	default:
		e.Epsilon, e.Delta = spec.Privacy.Epsilon, spec.Privacy.Delta
		e.ReleaseDelta = privacy.ReleaseDelta(n.Budget, spec.K)
		for _, b := range n.Budget.Blocks {
			g := b.Scale.Gamma() * float64(b.Sensitivity)
			e.Rho += g * g / 2 // each block is ε_b-DP, so ε_b²/2-zCDP
		}
	}
	return e
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

// CheckAllowances refuses a day or week allowance that is not an (ε, δ)
// (a zero one is no limit, or the default for feature set 2).
func CheckAllowances(b Budget) error {
	for name, a := range map[string]Allowance{"day": b.Day, "week": b.Week} {
		if a.IsZero() {
			continue
		}
		if !(a.Epsilon > 0) || math.IsInf(a.Epsilon, 0) || !(a.Delta > 0 && a.Delta < 1) {
			return fmt.Errorf("publish.budget.%s: epsilon %g, delta %g; want a positive epsilon and a delta in (0, 1)", name, a.Epsilon, a.Delta)
		}
	}
	return nil
}

// checkOneRelease refuses a budget that not even one release fits.
func checkOneRelease(b Budget, rho, delta float64) error {
	for name, a := range map[string]Allowance{"day": b.Day, "week": b.Week} {
		if a.IsZero() {
			continue
		}
		s := spending{rho: rho, delta: delta}
		if eps := s.epsilon(a.Delta); eps > a.Epsilon {
			return fmt.Errorf("publish.budget.%s: epsilon %g at delta %g is less than one release's epsilon %.4g (rho %.4g): nothing could ever be published; lower privacy.rho or raise the budget",
				name, a.Epsilon, a.Delta, eps, rho)
		}
	}
	return nil
}

// SlotNoise is the noise of every slot of the publisher's release: the
// users count (published after post-processing, feature set 2: combined
// with the histogram total), then each feature slot. None without noise.
func (p *Publisher) SlotNoise() []SlotNoise {
	if !p.cfg.Noise.Enabled() {
		return nil
	}
	plan, err := MakePlan(p.cfg.Spec, p.cfg.Budget, ProfileFor(p.cfg.Spec.Window))
	if err != nil {
		panic("BUG: publish: the plan of a checked spec fails: " + err.Error())
	}
	fs := cohorts.MustFeatureSet(p.cfg.Spec.FeatureSet)
	out := []SlotNoise{{Slot: privacy.SlotUsers, Name: "users", Sigma: plan.UsersSigma}}
	for i, f := range fs.Features {
		out = append(out, SlotNoise{Slot: i, Name: f.Name, Sigma: plan.SlotSigma[i]})
	}
	return out
}
