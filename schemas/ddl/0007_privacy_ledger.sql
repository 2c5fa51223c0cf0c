-- privacy_ledger: one row per release of a window (DESIGN.md, privacy
-- invariant 4): the budget spent and what it covered. An audit record, so
-- plain MergeTree (every row kept) and not touched by retention; monthly
-- partitions only keep the part count low. Internal: the targeter does not
-- see it.
CREATE TABLE IF NOT EXISTS {{.DB}}.privacy_ledger{{onCluster}}
(
    window_start    DateTime,
    window_end      DateTime,
    release         String,    -- version of the cohort spec and feature set
    epsilon         Float64,
    delta           Float64,
    bounds          String,    -- contribution bounds applied, as publish writes them
    spec_hash       String,
    code_version    String,
    rows_published  UInt64,
    rows_suppressed UInt64,
    republish       UInt8,     -- 1 when partials changed since the last release of the window
    released_at     DateTime
)
ENGINE = {{everywhere .DB "privacy_ledger" "MergeTree"}}
PARTITION BY toYYYYMM(window_start)
ORDER BY (window_start, release, released_at);
