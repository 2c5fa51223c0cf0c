package publish

import (
	"context"
	"time"

	"github.com/cohortline/cohortline/cohorts"
)

// LedgerEntry is one row of privacy_ledger: one release of one window.
type LedgerEntry struct {
	Window  cohorts.Window
	Release string // ReleaseName of the spec
	// Epsilon is the release's pure ε: the spec's ε for feature set 1,
	// the sum of the blocks' ε for feature set 2 when every block is
	// Laplace, else 0 (a Gaussian block has no pure ε); 0 without noise.
	Epsilon float64
	// Rho is the release's zCDP ρ (pure ε blocks count ε²/2); 0 without
	// noise. Releases compose by adding ρ (Budget).
	Rho   float64
	Delta float64 // the spec's configured δ; 0 without noise
	// ReleaseDelta is the δ this release has: privacy.ReleaseDelta of the
	// budget split and k, which Delta must cover; 0 without noise.
	ReleaseDelta float64
	Bounds       string // the contribution bounds applied, "events=100,call_seconds=3600"
	SpecHash     string
	CodeVersion  string
	// InputDigest is the hex Digest of the window's partials.
	InputDigest string
	// KeyID is privacy.KeyID of the secret that keys the noise: another
	// secret draws other noise, so a republish is free only under the
	// same key id. "" in rows written before the ledger recorded it.
	KeyID          string
	RowsPublished  int
	RowsSuppressed int // finest cohorts suppressed (in no row)
	// Republish is true when the window had a release before.
	Republish bool
	// EpsilonSpent is what this release adds to the window's and the day's
	// spending: Epsilon, or 0 when an earlier release of the same spec
	// covered exactly the same partials with noise under the same key
	// (the same noise, so nothing new is revealed).
	EpsilonSpent float64
	// RhoSpent is Rho, or 0 for a free republish, as EpsilonSpent.
	RhoSpent   float64
	Noise      bool   // false only in the no-noise test mode
	Mode       string // the publisher's Config.Mode; "" in old rows
	LeaseToken uint64 // the fencing token of the lease held while booking it
	ReleasedAt time.Time
}

// Store is where a Publisher reads partials and writes releases:
// sinks/clickhouse in production.
type Store interface {
	// AcquireLease takes the right to publish, waiting for a while (the
	// store's choice) if another publisher holds it. Releases read the
	// ledger and append to it under the lease, so two publishers never
	// spend one budget at once.
	AcquireLease(ctx context.Context) (Lease, error)
	// PublishedModes returns the name of the published database and the
	// modes of the releases it holds ("" for releases of unknown mode).
	PublishedModes(ctx context.Context) (database string, modes []string, err error)
	// Partials returns the finest partials of the windows starting in
	// [from, to), summed over partitions, by window start (epoch ms).
	Partials(ctx context.Context, spec cohorts.Spec, from, to time.Time) (map[int64][]cohorts.Partial, error)
	// Ledger returns the ledger entries of the windows starting in [from, to).
	Ledger(ctx context.Context, from, to time.Time) ([]LedgerEntry, error)
	// AppendLedger records a release; it is written before the rows.
	AppendLedger(ctx context.Context, e LedgerEntry) error
	// AppendPublishedRelease tells readers of the published database that
	// e's rows (published at e.ReleasedAt) are of a ledgered release, and
	// records e.Mode there; it is written after the ledger entry and
	// before the rows.
	AppendPublishedRelease(ctx context.Context, e LedgerEntry) error
	// WriteNoise records the standard deviation of the noise of every slot
	// of a release (SlotNoise), for readers' error bars; it is written
	// after the release's record and before its rows, and writing it again
	// is harmless.
	WriteNoise(ctx context.Context, release string, featureSet int, slots []SlotNoise) error
	// PublishedCohorts returns the cohort ids that readers see for window.
	PublishedCohorts(ctx context.Context, window cohorts.Window) ([]uint64, error)
	// WriteRows publishes the rows of window. With replace, readers must
	// afterwards see only these rows for the window (a republish whose
	// cohorts are not a superset of the published ones); without it,
	// writing the rows again with a later publish time is enough. A
	// write in several steps checks lease right before the step readers
	// see (the swap of a replace).
	//
	// A store that keeps a table derived from the rows (sinks/clickhouse:
	// the targeter's one-row-per-cohort lookup table) writes it after
	// them; RepairLatest completes what a crash between the two left out.
	WriteRows(ctx context.Context, lease Lease, window cohorts.Window, rows []Row, release string, publishedAt time.Time, replace bool) error
	// RepairLatest brings what the store derives from the published rows
	// up to date with them, after a crash in WriteRows; a session calls
	// it first, under lease. Nothing to do is the common case.
	RepairLatest(ctx context.Context, lease Lease) error
}

// Lease is the right to publish, which one publisher holds at a time
// (DESIGN.md, privacy invariant 5).
type Lease interface {
	// Check returns nil while the lease is still this publisher's: its
	// token is the current one and has not expired. A publisher checks it
	// right before every write, and stops at the first error.
	Check(ctx context.Context) error
	// Token is the lease's fencing token, recorded in the ledger.
	Token() uint64
	// Release gives the lease back.
	Release(ctx context.Context) error
}

// SlotNoise is the noise of one published slot: its standard deviation,
// NaN when its block is off. Slot is a feature slot, or -1 for the users
// count.
type SlotNoise struct {
	Slot  int
	Name  string
	Sigma float64
}
