package publish

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"
)

// Budget is the most ε that releases may spend, per window and per UTC day
// (over all windows that start on it). Zero means no limit.
type Budget struct {
	PerWindow float64
	PerDay    float64
}

// ErrBudget is wrapped by the error of a release refused for its budget.
var ErrBudget = errors.New("privacy budget exceeded")

// checkBudget sets entry's Republish and EpsilonSpent from the ledger and
// refuses a release over the budget. Releases without noise (the test
// mode) spend 0 and go through the same path: they are booked, and never
// over budget. It also moves entry's release time past every earlier
// release of the window, so that the newest release of a window is
// unique even when two come within a second.
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
		if sameNoise(e, *entry) {
			entry.EpsilonSpent = 0 // the same numbers again
		}
		if !entry.ReleasedAt.After(e.ReleasedAt) {
			entry.ReleasedAt = e.ReleasedAt.Add(time.Second)
		}
	}
	if entry.EpsilonSpent == 0 {
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

// sameNoise reports whether an earlier booked release drew exactly the
// noise that entry will: the noise is seeded by the secret, the release
// and the partials' digest, so all of them must match, and the noise
// flag. A booked release without a key id (before the ledger recorded
// it) was noised under a key nobody can vouch for, and never matches.
func sameNoise(booked, entry LedgerEntry) bool {
	return booked.Release == entry.Release && booked.InputDigest == entry.InputDigest &&
		booked.Noise == entry.Noise && booked.KeyID != "" && booked.KeyID == entry.KeyID
}
