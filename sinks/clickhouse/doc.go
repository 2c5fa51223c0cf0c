// Package clickhouse writes cohort partials and published enrichments to
// ClickHouse over the native protocol (clickhouse-go/v2): migrations,
// columnar inserts from Arrow records, and the queries behind publish and
// lookup. It works with ClickHouse 18.16 and current releases.
//
// Open connects (Config: addresses, the two databases, cluster mode,
// retries). Migrate applies schemas/ddl. Client.Writer is the pipeline's
// Sink on the shared row type schemas.Flush, without importing pipeline:
// its WritePartials writes one flush of a (window, topic, partition): its
// rows into cohort_partials, then its window_progress row, which makes it
// visible.
// CurrentPartials reads what is visible, summed over partitions;
// Writer.LastFlush reads a partition's newest flush back for resuming.
// DropPartitionsBefore is retention.
//
// Published rows: WriteEnrichment and WriteFeatureDictionary write
// cohort_enrichment and feature_dictionary; ReadEnrichment (a cohort's
// newest window, or a given one) and FeatureDictionary read them back
// with SELECTs on the published database only, so that the targeter's
// read-only account can run them (cohortline lookup does).
//
// Publishing: AppendLedger and Ledger write and read privacy_ledger, the
// budget each release of a window spent. PublishedCohorts says which
// cohorts readers see for a window; when a republish drops some,
// ReplaceEnrichmentWindow swaps the window's rows in whole (a staging
// table and REPLACE PARTITION; one server only, one publisher at a time).
// The lookup table cohort_latest, one row per cohort, follows
// (latest.go): WriteLatest upserts a release's rows, SyncLatest derives
// the cohorts a republish dropped again, RepairLatest completes what a
// crash left out, and retention drops the cohorts of dropped days.
//
// # Exactly-once effect
//
// Writes are idempotent rather than transactional: ClickHouse 18.16 has no
// insert deduplication token and no transactions. A flush carries a
// flush_version; readers take, per (window, topic, partition), only the
// rows of the highest version with a window_progress row, and fold
// repeats of one flush. So a flush written twice counts once, a re-flush
// with a new version replaces the old one whole, and a flush cut off
// between its rows and its progress row is not read (its older version
// still is, until the flush is written again).
//
// One window of inconsistency remains, and the pipeline closes it by
// always finishing a flush: cohort_partials is a ReplacingMergeTree keyed
// without the version, so a background merge may fold a cohort's row of
// the current version into the row of a newer flush whose progress row is
// not written yet; until it is, that cohort reads as missing.
//
// # Errors
//
// Writes and reads retry retryable errors (IsRetryable) with backoff up to
// Config.Retry, and honour ctx while waiting. Errors say what was being
// done, with the window, topic, partition and version.
package clickhouse
