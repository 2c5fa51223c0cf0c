-- cohort_enrichment_latest: per cohort, its newest window, and of that
-- window its newest publish. argMax over (window_start, published_at)
-- rather than FINAL: exact before merges too, and cheaper on 18.16.
-- Aliases differ from column names inside the subquery so that old and new
-- analyzers read them the same.
CREATE VIEW IF NOT EXISTS {{.PublishedDB}}.cohort_enrichment_latest{{onCluster}} AS
SELECT
    cohort_id,
    tupleElement(latest, 1)  AS window_start,
    tupleElement(latest, 2)  AS window_end,
    tupleElement(latest, 3)  AS cohort_key,
    tupleElement(latest, 4)  AS level,
    tupleElement(latest, 5)  AS users,
    tupleElement(latest, 6)  AS features,
    tupleElement(latest, 7)  AS feature_set,
    tupleElement(latest, 8)  AS release,
    tupleElement(latest, 9)  AS published_at
FROM
(
    SELECT
        cohort_id,
        argMax(
            (window_start, window_end, cohort_key, level, users, features, feature_set, release, published_at),
            (window_start, published_at)
        ) AS latest
    FROM {{.PublishedDB}}.cohort_enrichment
    GROUP BY cohort_id
);
