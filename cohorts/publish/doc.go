// Package publish turns the partials of closed windows into what the ad
// targeter reads (DESIGN.md, "publish" and privacy invariants 3 and 4):
// Release applies k-anonymity with generalization along the spec's chain
// and the deterministic differential-privacy noise of cohorts/privacy; the
// Publisher runs a release of a window against a Store (ClickHouse in
// production): it reads the window's partials, checks the privacy budget in
// the ledger, and writes the rows and the ledger entry.
//
// The package does no I/O of its own; sinks/clickhouse implements Store.
package publish
