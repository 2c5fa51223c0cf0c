-- cohort_latest: the targeter's lookup table (issue 19), one row per
-- cohort: its newest window, of that window its newest publish, of
-- ledgered releases only: what cohort_enrichment_latest (0012) computes
-- from the whole of cohort_enrichment at every query, kept ready.
--
-- Why a table: a lookup of 100 cohorts in cohort_enrichment reads the
-- primary-key granules (8,192 rows) of each, which cover most of the
-- table (every cohort has a row per window); here a cohort is one row, in
-- granules of 256 rows, so a lookup reads about one granule per cohort.
--
-- version orders a cohort's rows as the view's argMax does: window_start
-- first, then published_at (both whole seconds below 2^32), packed as
-- window_start * 2^32 + published_at. ReplacingMergeTree(version) keeps
-- the highest, so writing a release's rows is an upsert that commutes:
-- rows of an older window (a backfill of last week) never displace a
-- newer one, and writing rows again is harmless. Readers use FINAL or
-- argMax(…, version): before a merge a cohort may have several rows.
--
-- Maintained by publish (sinks/clickhouse latest.go): after a window's
-- rows reach cohort_enrichment, its rows are upserted here; cohorts a
-- republish dropped from the window (and a window a backfill emptied)
-- are derived again from cohort_enrichment and the table swapped whole
-- (REPLACE PARTITION tuple(): one partition). Retention removes the rows
-- of dropped days the same way. A crash between the two writes is
-- repaired at the next publish session (RepairLatest). Everything here
-- is derivable from cohort_enrichment and published_releases, as the
-- INSERT below derives it once.
CREATE TABLE IF NOT EXISTS {{local .PublishedDB "cohort_latest"}}{{onCluster}}
(
    cohort_id    UInt64,           -- cityHash64(cohort_key)
    window_start DateTime,         -- UTC, inclusive: the cohort's newest published window
    window_end   DateTime,         -- UTC, exclusive
    cohort_key   String,
    level        String,
    users        UInt64,           -- noised distinct users, at least k
    features     Array(Float32),   -- slots named by feature_dictionary
    feature_set  UInt16,
    release      String,
    published_at DateTime,
    version      UInt64            -- window_start * 2^32 + published_at: the newest wins
)
ENGINE = {{sharded .PublishedDB "cohort_latest" "ReplacingMergeTree(version)"}}
ORDER BY cohort_id
SETTINGS index_granularity = 256;
{{distributed .PublishedDB "cohort_latest" "cohort_id"}}

-- What is published already: the rows cohort_enrichment_latest (0012)
-- shows, which this file leaves in place, so a re-run of a half-applied
-- file reads the same; it writes the rows again, which the version folds.
INSERT INTO {{.PublishedDB}}.cohort_latest
    (cohort_id, window_start, window_end, cohort_key, level, users, features, feature_set, release, published_at, version)
SELECT cohort_id, window_start, window_end, cohort_key, level, users, features, feature_set, release, published_at,
    toUInt64(window_start) * 4294967296 + toUInt64(published_at)
FROM {{.PublishedDB}}.cohort_enrichment_latest;
