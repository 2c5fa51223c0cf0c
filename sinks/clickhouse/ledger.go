package clickhouse

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"
)

// LedgerRow is one row of privacy_ledger: one release of one window, the
// budget it spent, what it covered, and the key, mode and lease it was
// made under (DESIGN.md, privacy invariants 4 and 5).
type LedgerRow struct {
	WindowStart time.Time // UTC, whole seconds
	WindowEnd   time.Time // UTC, whole seconds, after WindowStart
	Release     string    // version of the cohort spec and feature set
	Epsilon     float64   // the release's pure epsilon; 0 without noise or without a pure epsilon
	// Rho is the release's zCDP rho; rows before migration 0013 read
	// epsilon²/2.
	Rho   float64
	Delta float64 // the configured delta
	// ReleaseDelta is the delta the release has (privacy.ReleaseDelta),
	// at most Delta; 0 without noise. Rows before migration 0010 read
	// Delta.
	ReleaseDelta float64
	Bounds       string // contribution bounds applied, as publish spells them
	SpecHash     string
	CodeVersion  string
	InputDigest  string // hex SHA-256 of the window's input partials
	// KeyID is privacy.KeyID of the secret that keyed the noise; "" in
	// rows before migration 0010.
	KeyID string
	// RowsPublished and RowsSuppressed count published rows and finest
	// cohorts in no row.
	RowsPublished, RowsSuppressed uint64
	Republish                     bool // the window had a release before
	// EpsilonSpent is what the release added to the budget: Epsilon, or 0
	// for a republish of identical partials.
	EpsilonSpent float64
	// RhoSpent is Rho, or 0 for a republish of identical partials; rows
	// before migration 0013 read epsilon_spent²/2.
	RhoSpent   float64
	Noise      bool      // false only in the no-noise test mode
	Mode       string    // production, development or test; "" before migration 0010
	LeaseToken uint64    // the publish lease held while booking it; 0 before migration 0010
	ReleasedAt time.Time // stored to the second
}

// ledgerColumns are the privacy_ledger columns AppendLedger writes and
// Ledger reads, in LedgerRow order; 18.16 needs the explicit list.
var ledgerColumns = []string{
	"window_start", "window_end", "release", "epsilon", "rho", "delta", "release_delta", "bounds", "spec_hash", "code_version",
	"input_digest", "key_id", "rows_published", "rows_suppressed", "republish", "epsilon_spent", "rho_spent", "noise", "mode",
	"lease_token", "released_at",
}

// AppendLedger records a release in privacy_ledger, retrying retryable
// errors. A retried insert that had reached the server leaves the row
// twice; Ledger counts exact repeats once.
func (c *Client) AppendLedger(ctx context.Context, r LedgerRow) error {
	what := fmt.Sprintf("recording release %q of window %s in %s.privacy_ledger", r.Release, r.WindowStart.UTC().Format(time.RFC3339), c.cfg.Database)
	if err := r.check(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	insert := "INSERT INTO " + c.cfg.Database + ".privacy_ledger (" + strings.Join(ledgerColumns, ", ") + ")"
	err := retry(ctx, c.cfg.Retry, func(ctx context.Context) error {
		batch, err := c.conn.PrepareBatch(ctx, insert)
		if err != nil {
			return err
		}
		defer batch.Close() // releases the connection if Send is not reached
		err = batch.Append(r.WindowStart, r.WindowEnd, r.Release, r.Epsilon, r.Rho, r.Delta, r.ReleaseDelta, r.Bounds, r.SpecHash,
			r.CodeVersion, r.InputDigest, r.KeyID, r.RowsPublished, r.RowsSuppressed, flag(r.Republish), r.EpsilonSpent,
			r.RhoSpent, flag(r.Noise), r.Mode, r.LeaseToken, r.ReleasedAt)
		if err != nil {
			return err
		}
		return batch.Send()
	})
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// check refuses what the ledger could not hold faithfully: DateTime keeps
// whole seconds after 1970, and a budget sum over a NaN or a negative
// epsilon would mean nothing.
func (r LedgerRow) check() error {
	switch {
	case r.WindowStart.Unix() <= 0 || r.WindowStart.Nanosecond() != 0:
		return fmt.Errorf("window start %s is not a whole second after 1970", r.WindowStart)
	case r.WindowEnd.Nanosecond() != 0 || !r.WindowEnd.After(r.WindowStart):
		return fmt.Errorf("window end %s is not a whole second after the start", r.WindowEnd)
	case r.ReleasedAt.Unix() <= 0:
		return fmt.Errorf("release time %s is not after 1970", r.ReleasedAt)
	case r.Release == "":
		return fmt.Errorf("no release name")
	}
	for name, v := range map[string]float64{"epsilon": r.Epsilon, "delta": r.Delta, "release delta": r.ReleaseDelta, "epsilon spent": r.EpsilonSpent, "rho": r.Rho, "rho spent": r.RhoSpent} {
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			return fmt.Errorf("%s %g is not a finite number at least 0", name, v)
		}
	}
	return nil
}

func flag(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

// Ledger returns the releases of the windows that start in [from, to),
// ordered by window start and release time. Exact repeats of a row (an
// insert retried after it had reached the server) count once; two
// releases differ at least in their release time or digest.
func (c *Client) Ledger(ctx context.Context, from, to time.Time) ([]LedgerRow, error) {
	q := fmt.Sprintf(`SELECT DISTINCT %s FROM %s.privacy_ledger
WHERE window_start >= toDateTime(%d) AND window_start < toDateTime(%d)
ORDER BY window_start, released_at, release, input_digest`,
		strings.Join(ledgerColumns, ", "), c.cfg.Database, from.Unix(), to.Unix())
	out, err := queryRows(ctx, c, func(scan func(...any) error) (LedgerRow, error) {
		var (
			r                LedgerRow
			republish, noise uint8
		)
		if err := scan(&r.WindowStart, &r.WindowEnd, &r.Release, &r.Epsilon, &r.Rho, &r.Delta, &r.ReleaseDelta, &r.Bounds,
			&r.SpecHash, &r.CodeVersion, &r.InputDigest, &r.KeyID, &r.RowsPublished, &r.RowsSuppressed, &republish,
			&r.EpsilonSpent, &r.RhoSpent, &noise, &r.Mode, &r.LeaseToken, &r.ReleasedAt); err != nil {
			return r, err
		}
		r.Republish, r.Noise = republish != 0, noise != 0
		r.WindowStart, r.WindowEnd, r.ReleasedAt = r.WindowStart.UTC(), r.WindowEnd.UTC(), r.ReleasedAt.UTC()
		return r, nil
	}, q)
	if err != nil {
		return nil, fmt.Errorf("reading %s.privacy_ledger for windows [%s, %s): %w", c.cfg.Database,
			from.UTC().Format(time.RFC3339), to.UTC().Format(time.RFC3339), err)
	}
	return out, nil
}
