// Package cohorts holds the cohort spec, canonical cohort keys and ids,
// event-time windows, per-user window state, the feature aggregates (one file
// each) and the privacy machinery (contribution bounding, k-anonymity,
// deterministic noise, ledger records). It does no Kafka or ClickHouse I/O.
package cohorts
