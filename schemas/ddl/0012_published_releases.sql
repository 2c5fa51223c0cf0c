-- published_releases: which releases of which windows readers may see,
-- one row per release, written by publish right after the release's
-- privacy_ledger row and before its cohort_enrichment rows (DESIGN.md,
-- privacy invariant 5: targeter views show only ledgered releases).
--
-- Why a copy in the published database rather than the ledger itself:
-- 18.16 checks a view's tables against the reader's allow_databases, so a
-- view in the published database that reads the internal ledger is
-- refused to the targeter ("Access denied to database …", measured).
--
-- mode binds the database to one mode: publish refuses a production
-- release into a database whose releases are of development or test
-- mode, and the reverse. An audit record like the ledger: not touched by
-- retention, monthly partitions only keep the part count low.
CREATE TABLE IF NOT EXISTS {{.PublishedDB}}.published_releases{{onCluster}}
(
    window_start DateTime,
    window_end   DateTime,
    release      String,     -- version of the cohort spec and feature set
    published_at DateTime,   -- the release's released_at in the ledger, its rows' published_at
    mode         String      -- production, development or test; '' when unknown (before 0012)
)
ENGINE = {{everywhere .PublishedDB "published_releases" "MergeTree"}}
PARTITION BY toYYYYMM(window_start)
ORDER BY (window_start, release, published_at);

-- Releases made before this migration: each ledger row whose rows are in
-- this published database. Their mode is unknown, except that only test
-- mode publishes without noise. Re-running this after a failure may list
-- a release twice, which readers do not mind (IN).
INSERT INTO {{.PublishedDB}}.published_releases (window_start, window_end, release, published_at, mode)
SELECT window_start, any(window_end), release, released_at, if(min(noise) = 0, 'test', '')
FROM {{.DB}}.privacy_ledger
WHERE (window_start, release, released_at) IN
(
    SELECT DISTINCT window_start, release, published_at FROM {{.PublishedDB}}.cohort_enrichment
)
GROUP BY window_start, release, released_at;

-- cohort_enrichment_current: every window of every cohort, one version
-- each: of the rows of ledgered releases (published_releases), the
-- newest publish. argMax rather than FINAL: exact before merges, so a
-- republished window shows once right after its rows are written.
CREATE VIEW IF NOT EXISTS {{.PublishedDB}}.cohort_enrichment_current{{onCluster}} AS
SELECT
    cohort_id,
    window_start,
    tupleElement(newest, 1) AS window_end,
    tupleElement(newest, 2) AS cohort_key,
    tupleElement(newest, 3) AS level,
    tupleElement(newest, 4) AS users,
    tupleElement(newest, 5) AS features,
    tupleElement(newest, 6) AS feature_set,
    tupleElement(newest, 7) AS release,
    tupleElement(newest, 8) AS published_at
FROM
(
    SELECT
        cohort_id,
        window_start,
        argMax(
            (window_end, cohort_key, level, users, features, feature_set, release, published_at),
            published_at
        ) AS newest
    FROM {{.PublishedDB}}.cohort_enrichment
    WHERE (window_start, release, published_at) {{in}}
    (
        SELECT window_start, release, published_at FROM {{.PublishedDB}}.published_releases
    )
    GROUP BY cohort_id, window_start
);

-- cohort_enrichment_latest (0005) again, over ledgered releases only: per
-- cohort its newest window, of that window its newest publish. 18.16 has
-- no CREATE OR REPLACE VIEW: dropped and created, so a reader may briefly
-- miss it during the migration.
DROP TABLE IF EXISTS {{.PublishedDB}}.cohort_enrichment_latest{{onCluster}};
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
    WHERE (window_start, release, published_at) {{in}}
    (
        SELECT window_start, release, published_at FROM {{.PublishedDB}}.published_releases
    )
    GROUP BY cohort_id
);
