-- backfill_progress: window_progress's twin for the flushes of backfills
-- (pipeline.Backfill), one row per (window, topic, partition) a backfill
-- recomputed, all written in one insert when the backfill commits.
--
-- Why not window_progress: it is a ReplacingMergeTree keyed by (window,
-- topic, partition), so a merge would fold streaming's row of a window into
-- the backfill's, and with it the watermark a streaming worker resumes its
-- partition at (LastProgress: its newest streaming flush). Kept apart,
-- window_progress stays streaming's own record.
--
-- Readers take, per (window, topic, partition), the highest flush_version
-- found in either table: backfill versions are above every streaming
-- version (schemas.FirstBackfillVersion).
CREATE TABLE IF NOT EXISTS {{local .DB "backfill_progress"}}{{onCluster}}
(
    window_start  DateTime,
    window_end    DateTime,
    topic         String,
    partition     Int32,
    flush_version UInt64,
    rows          UInt64,   -- partial rows the flush wrote
    first_offset  Int64,    -- first source offset the flush covers, -1 for none
    last_offset   Int64,    -- last source offset the flush covers, -1 for none
    watermark     Int64,    -- the backfill's watermark at the flush, epoch ms
    flushed_at    DateTime
)
ENGINE = {{sharded .DB "backfill_progress" "ReplacingMergeTree(flush_version)"}}
PARTITION BY toDate(window_start)
ORDER BY (window_start, topic, partition);
{{distributed .DB "backfill_progress" "cityHash64(topic, partition)"}}

-- cohort_partials_current (0003) again, now choosing the newest complete
-- flush among streaming's and backfills'. 18.16 has no CREATE OR REPLACE
-- VIEW: the view is dropped and created, so a reader may briefly miss it
-- during the migration.
DROP TABLE IF EXISTS {{.DB}}.cohort_partials_current{{onCluster}};
CREATE VIEW IF NOT EXISTS {{.DB}}.cohort_partials_current{{onCluster}} AS
SELECT
    window_start,
    any(window_end)  AS window_end,
    topic,
    partition,
    cohort_id,
    any(cohort_key)  AS cohort_key,
    any(feature_set) AS feature_set,
    any(users)       AS users,
    any(events)      AS events,
    any(values)      AS values,
    flush_version
FROM {{.DB}}.cohort_partials
WHERE (window_start, topic, partition, flush_version) {{in}}
(
    SELECT window_start, topic, partition, max(flush_version)
    FROM
    (
        SELECT window_start, topic, partition, flush_version FROM {{.DB}}.window_progress
        UNION ALL
        SELECT window_start, topic, partition, flush_version FROM {{.DB}}.backfill_progress
    )
    GROUP BY window_start, topic, partition
)
GROUP BY window_start, topic, partition, cohort_id, flush_version;
