-- cohort_partials: the pipeline's output, one row per (window, topic,
-- partition, cohort, flush version); columns as schemas.PartialsSchema plus
-- flushed_at. A re-flush of a (window, topic, partition) after a replay or
-- a backfill writes all its rows again with a higher flush_version.
--
-- ReplacingMergeTree(flush_version) with the version outside the key:
-- merges keep the newest version of each cohort row and drop exact repeats
-- of one flush. Merges are lazy and do not remove a cohort that a newer
-- flush no longer has, so readers never read this table directly: they read
-- cohort_partials_current (0003), which keeps only the version that
-- window_progress says is complete.
--
-- Daily partitions so retention is DROP PARTITION of whole days.
CREATE TABLE IF NOT EXISTS {{local .DB "cohort_partials"}}{{onCluster}}
(
    window_start  DateTime,        -- UTC, inclusive
    window_end    DateTime,        -- UTC, exclusive
    topic         String,          -- source topic, or "backfill:<name>"
    partition     Int32,           -- source partition
    cohort_id     UInt64,          -- cityHash64(cohort_key)
    cohort_key    String,          -- canonical finest cohort key
    feature_set   UInt16,
    users         UInt64,          -- distinct users
    events        UInt64,
    values        Array(UInt64),   -- additive slots, in feature_dictionary order
    flush_version UInt64,
    flushed_at    DateTime         -- when the sink wrote the row; not data
)
ENGINE = {{sharded .DB "cohort_partials" "ReplacingMergeTree(flush_version)"}}
PARTITION BY toDate(window_start)
ORDER BY (window_start, topic, partition, cohort_id);
{{distributed .DB "cohort_partials" "cohort_id"}}
