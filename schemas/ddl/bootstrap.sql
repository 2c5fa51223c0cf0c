-- bootstrap.sql: applied before the numbered migrations on every run, so it
-- must stay safe to repeat (IF NOT EXISTS everywhere). Two databases because
-- ClickHouse 18.16 restricts a user per database only (allow_databases in
-- users.xml), not per table: the targeter's account is given the published
-- database and nothing else.
CREATE DATABASE IF NOT EXISTS {{.DB}}{{onCluster}};
CREATE DATABASE IF NOT EXISTS {{.PublishedDB}}{{onCluster}};

-- schema_migrations: one row per applied numbered migration. migrate
-- applies a file only when its version is missing here, in version order,
-- and records it after its last statement succeeded: a migration that
-- failed half-way is re-run whole, which its IF NOT EXISTS makes harmless.
CREATE TABLE IF NOT EXISTS {{.DB}}.schema_migrations{{onCluster}}
(
    version    UInt32,   -- 1 for 0001_….sql
    name       String,   -- file name
    checksum   String,   -- SHA-256 of the file's template: applied files must not change
    applied_at DateTime
)
ENGINE = {{everywhere .DB "schema_migrations" "MergeTree"}}
ORDER BY version;
