-- privacy_ledger, what a release covered and what it spent (DESIGN.md,
-- privacy invariant 4: a republish of identical partials spends no budget,
-- one whose partials changed spends it again). The budget check sums
-- epsilon_spent, not epsilon, and tells the two kinds of republish apart
-- by input_digest.
--
-- ClickHouse 18.16 has no ADD COLUMN IF NOT EXISTS (a syntax error there),
-- so these statements are plain ADD COLUMN, one column each: migrate skips
-- one whose column the table already has (schemas.AddedColumn), which
-- makes re-running a half-applied file harmless as IF NOT EXISTS does
-- elsewhere.
--
-- Rows written before this migration read the defaults: no digest, the
-- full epsilon spent and noise on, which over-counts their spending rather
-- than under-counting it.
ALTER TABLE {{.DB}}.privacy_ledger{{onCluster}}
    ADD COLUMN input_digest String AFTER code_version;               -- hex SHA-256 of the window's input partials
ALTER TABLE {{.DB}}.privacy_ledger{{onCluster}}
    ADD COLUMN epsilon_spent Float64 DEFAULT epsilon AFTER republish; -- what the release added: epsilon, or 0 for a republish of identical partials
ALTER TABLE {{.DB}}.privacy_ledger{{onCluster}}
    ADD COLUMN noise UInt8 DEFAULT 1 AFTER epsilon_spent;            -- 0 only in the no-noise test mode
