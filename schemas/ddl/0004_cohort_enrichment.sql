-- cohort_enrichment: published, k-anonymous, noised rows that the targeter
-- reads; the only table in the published database with per-window data.
--
-- ReplacingMergeTree(published_at), ORDER BY (cohort_id, window_start):
-- lookups are by cohort, and a republish of a window (stragglers, backfill)
-- writes its rows again with a later published_at, which wins per (cohort,
-- window). That does not remove a cohort the republish no longer has (one
-- now merged upward or suppressed): publish replaces the window's day
-- instead (write the day to a staging table, then ALTER TABLE … REPLACE
-- PARTITION … FROM, which works on 18.16) when the set of cohorts changes.
--
-- users is UInt64: the noise is discrete (two-sided geometric), so the
-- noised count is an integer, and publish never writes one below k.
CREATE TABLE IF NOT EXISTS {{local .PublishedDB "cohort_enrichment"}}{{onCluster}}
(
    window_start DateTime,         -- UTC, inclusive
    window_end   DateTime,         -- UTC, exclusive
    cohort_id    UInt64,           -- cityHash64(cohort_key)
    cohort_key   String,           -- canonical key; a generalized dimension is *
    level        String,           -- which dimensions are generalized (publish spells it)
    users        UInt64,           -- noised distinct users, at least k
    features     Array(Float32),   -- slots named by feature_dictionary
    feature_set  UInt16,
    release      String,           -- version of the cohort spec and feature set
    published_at DateTime
)
ENGINE = {{sharded .PublishedDB "cohort_enrichment" "ReplacingMergeTree(published_at)"}}
PARTITION BY toDate(window_start)
ORDER BY (cohort_id, window_start);
{{distributed .PublishedDB "cohort_enrichment" "cohort_id"}}
