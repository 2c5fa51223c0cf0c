-- window_progress: one row per flush of a (window, topic, partition). The
-- sink writes it AFTER the flush's partial rows, so a flush counts as
-- complete only once its row is here; readers use, per (window, topic,
-- partition), the highest flush_version found here and nothing newer that
-- cohort_partials may already hold. A flush with no cohort (say a partition
-- with only minors in the window) still writes its row, with rows = 0.
-- A partition worker taking over reads its partition's newest row back to
-- resume: the watermark it had when it flushed (sinks/clickhouse
-- LastProgress).
CREATE TABLE IF NOT EXISTS {{local .DB "window_progress"}}{{onCluster}}
(
    window_start  DateTime,
    window_end    DateTime,
    topic         String,
    partition     Int32,
    flush_version UInt64,
    rows          UInt64,   -- partial rows the flush wrote
    first_offset  Int64,    -- first source offset the flush covers
    last_offset   Int64,    -- last source offset the flush covers
    watermark     Int64,    -- the partition's event-time watermark at the flush, epoch ms
    flushed_at    DateTime
)
ENGINE = {{sharded .DB "window_progress" "ReplacingMergeTree(flush_version)"}}
PARTITION BY toDate(window_start)
ORDER BY (window_start, topic, partition);
{{distributed .DB "window_progress" "cityHash64(topic, partition)"}}
