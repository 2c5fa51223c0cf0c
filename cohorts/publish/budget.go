package publish

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/cohortline/cohortline/cohorts/privacy"
)

// Budget is what releases may spend. Day and Week are per person:
// a person can appear in every window of a day, so the ledger's releases
// of all windows that start on a UTC day (on a calendar week, Monday
// 00:00 UTC on) add up, composed in zCDP (ρ adds), and the sum, converted
// with the tight conversion (privacy.EpsilonOf), must stay within the
// allowance's (ε, δ); the δ of the k thresholds (privacy.ReleaseDelta)
// comes off the allowance's δ first. A zero Allowance is no limit, except
// that feature set 2 publishers default to DefaultBudget's.
//
// PerWindow and PerDay are the older pure-ε limits, per window and per
// UTC day (0: no limit), which count only pure-ε spending (feature set 1,
// or all-Laplace blocks).
type Budget struct {
	PerWindow float64
	PerDay    float64
	Day       Allowance // per person-day
	Week      Allowance // per person-week, Monday to Sunday UTC
}

// Allowance is an (ε, δ) privacy-loss limit.
type Allowance struct {
	Epsilon float64
	Delta   float64
}

// IsZero reports no limit.
func (a Allowance) IsZero() bool { return a.Epsilon == 0 && a.Delta == 0 }

// DefaultBudget is the per-person budget of feature set 2 publishers:
// ε 8 per day and 20 per calendar week, each at δ = 10^-8.
//
// The reasoning, with the anchors a privacy reviewer checks against:
//   - US Census 2020 TopDown spent ρ = 2.63 on the redistricting data and
//     15.29 on the DHC persons file: each ONE release for a decade. We
//     release every day, so a day gets far less: ε 8 at 10^-8 is ρ ≈ 0.8,
//     one daily release (ρ 0.4, ε 5.38) plus one republish after late
//     data.
//   - LinkedIn's audience-engagement API allows each member about ε 35
//     per month (Rogers et al. 2020), ≈ 8 per week in basic composition;
//     our week, ε 20 after the tight conversion, is ρ ≈ 3.95, which in
//     basic composition of daily ε 5.38 would be 53: we are within the
//     same order as LinkedIn only because zCDP composes tightly, and a
//     reviewer should read the week limit as the binding one.
//   - Chrome's Topics API works in weekly epochs, and a person's topics of
//     a week are what a caller can learn: the week is the natural second
//     horizon. ε 20 per week lets a daily release go out every day (ρ 2.8,
//     ε 16.3) with two republishes to spare, while the day limit stops any
//     one day from taking the week.
//
// δ = 10^-8 is far below 1/population for any national user base.
var DefaultBudget = Budget{
	Day:  Allowance{Epsilon: 8, Delta: 1e-8},
	Week: Allowance{Epsilon: 20, Delta: 1e-8},
}

// ErrBudget is wrapped by the error of a release refused for its budget.
var ErrBudget = errors.New("privacy budget exceeded")

// weekStart is the Monday 00:00 UTC on or before t.
func weekStart(t time.Time) time.Time {
	d := t.UTC().Truncate(24 * time.Hour)
	return d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
}

// spending is what a set of ledger entries spends: ρ, the thresholds' δ,
// and pure ε when every charged release has one.
type spending struct {
	rho, delta, pure float64
	allPure          bool
}

func (s *spending) add(e LedgerEntry) {
	if e.RhoSpent == 0 && e.EpsilonSpent > 0 {
		s.rho += e.EpsilonSpent * e.EpsilonSpent / 2 // a row from before ρ was booked: ε-DP is ε²/2-zCDP
	}
	s.rho += e.RhoSpent
	if e.RhoSpent > 0 || e.EpsilonSpent > 0 {
		s.delta += e.ReleaseDelta
	}
	s.pure += e.EpsilonSpent
	if e.RhoSpent > 0 && e.EpsilonSpent == 0 {
		s.allPure = false
	}
}

// epsilon is the ε of the spending at δ allowance, or +Inf when the
// thresholds' δ alone uses it up: the tight zCDP conversion, or basic
// composition of pure ε when that is smaller.
func (s spending) epsilon(delta float64) float64 {
	left := delta - s.delta
	if left <= 0 {
		return math.Inf(1)
	}
	eps := privacy.EpsilonOf(s.rho, left)
	if s.allPure {
		eps = math.Min(eps, s.pure)
	}
	return eps
}

// checkBudget sets entry's Republish, EpsilonSpent and RhoSpent from the
// ledger and refuses a release over the budget. Releases without noise
// (the test mode) spend 0 and go through the same path: they are booked,
// and never over budget. It also moves entry's release time past every
// earlier release of the window, so that the newest release of a window
// is unique even when two come within a second.
func (p *Publisher) checkBudget(ctx context.Context, entry *LedgerEntry) error {
	w := entry.Window
	day := time.UnixMilli(w.Start).UTC().Truncate(24 * time.Hour)
	from, to := day, day.Add(24*time.Hour)
	b := p.cfg.Budget
	if !b.Week.IsZero() {
		from, to = weekStart(day), weekStart(day).AddDate(0, 0, 7)
	}
	past, err := p.store.Ledger(ctx, from, to)
	if err != nil {
		return fmt.Errorf("reading the privacy ledger of %s to %s: %w", from.Format(time.DateOnly), to.Format(time.DateOnly), err)
	}
	var window, daily float64
	dayS, weekS := spending{allPure: true}, spending{allPure: true}
	entry.EpsilonSpent, entry.RhoSpent = entry.Epsilon, entry.Rho
	for _, e := range past {
		weekS.add(e)
		if time.UnixMilli(e.Window.Start).UTC().Truncate(24 * time.Hour).Equal(day) {
			dayS.add(e)
			daily += e.EpsilonSpent
		}
		if e.Window.Start != w.Start {
			continue
		}
		window += e.EpsilonSpent
		entry.Republish = true
		if sameNoise(e, *entry) {
			entry.EpsilonSpent, entry.RhoSpent = 0, 0 // the same numbers again
		}
		if !entry.ReleasedAt.After(e.ReleasedAt) {
			entry.ReleasedAt = e.ReleasedAt.Add(time.Second)
		}
	}
	if entry.EpsilonSpent == 0 && entry.RhoSpent == 0 {
		return nil
	}
	const slack = 1e-9 // float sums of equal ε must not refuse the last allowed release
	if b.PerWindow > 0 && window+entry.EpsilonSpent > b.PerWindow+slack {
		return fmt.Errorf("%w: window %s has spent epsilon %g; this release would bring it to %g, over publish.budget.per_window %g; nothing was written",
			ErrBudget, w, window, window+entry.EpsilonSpent, b.PerWindow)
	}
	if b.PerDay > 0 && daily+entry.EpsilonSpent > b.PerDay+slack {
		return fmt.Errorf("%w: day %s has spent epsilon %g; releasing window %s would bring it to %g, over publish.budget.per_day %g; nothing was written",
			ErrBudget, day.Format(time.DateOnly), daily, w, daily+entry.EpsilonSpent, b.PerDay)
	}
	if math.IsNaN(window) || math.IsNaN(daily) || math.IsNaN(dayS.rho) || math.IsNaN(weekS.rho) {
		return fmt.Errorf("%w: the ledger of %s holds a NaN epsilon or rho", ErrBudget, day.Format(time.DateOnly))
	}
	charged := *entry
	for _, c := range []struct {
		name string
		a    Allowance
		s    spending
		span string
	}{
		{"day", b.Day, dayS, "day " + day.Format(time.DateOnly)},
		{"week", b.Week, weekS, "week of " + weekStart(day).Format(time.DateOnly)},
	} {
		if c.a.IsZero() {
			continue
		}
		before := c.s.epsilon(c.a.Delta)
		c.s.add(charged)
		after := c.s.epsilon(c.a.Delta)
		if math.IsInf(after, 1) {
			return fmt.Errorf("%w: releasing window %s would bring the k thresholds' delta of %s to %.3g, at or over publish.budget.%s.delta %g; nothing was written",
				ErrBudget, w, c.span, c.s.delta, c.name, c.a.Delta)
		}
		if after > c.a.Epsilon+slack {
			return fmt.Errorf("%w: %s has spent rho %.4g (epsilon %.4g at delta %g); releasing window %s (rho %.4g) would bring it to rho %.4g, epsilon %.4g, over publish.budget.%s.epsilon %g; nothing was written",
				ErrBudget, c.span, c.s.rho-charged.RhoSpent, before, c.a.Delta, w, charged.RhoSpent, c.s.rho, after, c.name, c.a.Epsilon)
		}
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
