-- publish_lease: who may publish now (DESIGN.md, privacy invariant 5: one
-- publisher at a time). ClickHouse 18.16 has no transactions and no
-- compare-and-set, so the lease is a log of claims, read back
-- (sinks/clickhouse lease.go has the algorithm and its race window):
--
--   - an acquisition inserts a row with token = the highest token + 1,
--     seq 0; renewals and the release insert rows of the same token and
--     holder with a higher seq;
--   - the current lease is the highest token, of its rows the greatest
--     holder (two acquirers that picked the same token: the greater
--     holder wins, the same for every reader), of that holder's rows the
--     highest seq (argMax, exact before merges);
--   - it is free when released or expired (expires_at passed).
--
-- The token is the fencing token: a publisher checks, before every write
-- that publishes, that its token and holder are still current.
-- ReplacingMergeTree(seq) folds a holder's renewals into one row per
-- (token, holder) at merges; readers never rely on that.
-- One lease per internal database: publishers share its privacy ledger
-- and budget, whatever published database they write.
CREATE TABLE IF NOT EXISTS {{.DB}}.publish_lease{{onCluster}}
(
    token       UInt64,     -- fencing token, one per acquisition; the highest is current
    holder      String,     -- command@host:pid:random, never a secret
    seq         UInt64,     -- the holder's writes of this token: 0 acquire, then renewals and release
    acquired_at DateTime,
    expires_at  DateTime,   -- acquired_at + lease TTL, moved on by renewals
    released    UInt8       -- 1: given back before its expiry
)
ENGINE = {{everywhere .DB "publish_lease" "ReplacingMergeTree(seq)"}}
ORDER BY (token, holder);
