-- cohort_partials_current: the partial rows readers see. Per (window, topic,
-- partition) only the rows of the highest flush_version that has a
-- window_progress row, so a re-flush replaces all earlier rows of its
-- partition even when its set of cohorts changed, and a flush still being
-- written is not read half-way. The GROUP BY folds repeats of the same
-- flush (same version, same values) that merges have not removed yet;
-- any() is exact there because repeats are identical.
--
-- A tuple IN subquery instead of a JOIN: it reads the same on 18.16 and on
-- current releases. 18.16 does not push a reader's WHERE into a view, so
-- this view reads both tables whole: programs filter by window before the
-- GROUP BY (sinks/clickhouse CurrentPartials); the view is for people and
-- small checks.
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
    FROM {{.DB}}.window_progress
    GROUP BY window_start, topic, partition
)
GROUP BY window_start, topic, partition, cohort_id, flush_version;
