// Package publish turns the partials of closed windows into what the ad
// targeter reads (DESIGN.md, "publish" and privacy invariants 3, 4 and 5):
// Release applies k-anonymity with generalization along the spec's chain
// and the deterministic differential-privacy noise of cohorts/privacy; the
// Publisher runs releases of windows against a Store (ClickHouse in
// production). A Session holds the store's publish lease, so one
// publisher at a time reads and spends the privacy budget; it refuses a
// published database bound to another mode, and for each window reads
// the partials, checks the budget in the ledger (a republish is free only
// under the same release, digest, noise flag and key id), and writes the
// ledger entry, the release's record in the published database and the
// rows, checking the lease right before each write.
//
// Settings (config.go) is the publish section of the config file; the
// Scheduler (scheduler.go) is `cohortline run`'s automatic publisher, which
// releases each window once every partition has flushed past it.
//
// The package does no I/O of its own; sinks/clickhouse implements Store
// and FlushLog.
package publish
