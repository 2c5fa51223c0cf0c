-- The ad targeter's account on a ClickHouse with SQL access control
-- (current releases; 18.16 has none: see "The targeter's account" in
-- deploy/README.md for its users.xml). The account may read the published
-- tables and views, and nothing else (DESIGN.md, privacy invariant 7).
--
-- Replace the password, the network and, if cohortline runs with another
-- published_database, the database name. Run it as an administrator, e.g.
--   clickhouse-client --multiquery < deploy/clickhouse/targeter.sql
--
-- CI has no current ClickHouse server: sinks/clickhouse TestChDB parses
-- every statement here with a current release's parser (chDB 26.x, which
-- has no accounts to create) and checks that every object granted exists
-- after migrate. The same rules are tested on 18.16 through users.xml
-- (sinks/clickhouse TestTargeterAccount).

CREATE USER IF NOT EXISTS targeter
    IDENTIFIED WITH sha256_password BY 'replace-me'
    HOST IP '10.0.0.0/8'   -- the targeter's network, never ANY
    -- readonly = 2, not 1: no writes and no DDL either way, but 1 also
    -- refuses every setting a client sends, and clickhouse-go sends
    -- max_execution_time whenever the query's context has a deadline.
    -- Table functions (remote, url, file …) stay refused: they need
    -- grants this account does not have.
    SETTINGS readonly = 2;

-- The entry points: one row per (cohort, window), the newest publish, of
-- releases in the privacy ledger only (DESIGN.md, privacy invariant 5).
GRANT SELECT ON cohortline_published.cohort_enrichment_current TO targeter;
GRANT SELECT ON cohortline_published.cohort_enrichment_latest TO targeter;
GRANT SELECT ON cohortline_published.feature_dictionary TO targeter;
-- The lookup table (issue 19): each cohort's newest window, one row per
-- cohort, of ledgered releases only (publish writes it after the rows,
-- from the rows): what cohort_enrichment_latest shows, without reading
-- the whole of cohort_enrichment.
GRANT SELECT ON cohortline_published.cohort_latest TO targeter;
-- What the views read. Views run with the reader's rights (SQL SECURITY
-- INVOKER, the default), so their tables need the grant too. Every row of
-- cohort_enrichment belongs to a ledgered release (publish writes the
-- ledger first): read raw, it shows nothing the budget did not pay for,
-- only older publishes of a window that merges have not folded yet; the
-- views are the documented contract.
GRANT SELECT ON cohortline_published.cohort_enrichment TO targeter;
GRANT SELECT ON cohortline_published.published_releases TO targeter;
-- To allow the views only (not tested here: CI has 18.16, which has no
-- SQL SECURITY; 18.16 grants whole databases anyway), an administrator
-- can make them run with their definer's rights and revoke the tables:
--   ALTER TABLE cohortline_published.cohort_enrichment_current MODIFY SQL SECURITY DEFINER;
--   ALTER TABLE cohortline_published.cohort_enrichment_latest MODIFY SQL SECURITY DEFINER;
--   REVOKE SELECT ON cohortline_published.cohort_enrichment FROM targeter;
--   REVOKE SELECT ON cohortline_published.published_releases FROM targeter;
-- A migration that recreates a view (as 0012 did) resets it to INVOKER.

-- Cluster mode (cohortline migrate --cluster): cohort_enrichment is a
-- Distributed table over cohort_enrichment_local. When the cluster
-- authenticates shards with <secret>, each shard checks the targeter's own
-- grants, and the account also needs:
--   GRANT SELECT ON cohortline_published.cohort_enrichment_local TO targeter;
--   GRANT SELECT ON cohortline_published.cohort_latest_local TO targeter;
