-- privacy_ledger, what binds a release to its key, its mode and its
-- publisher (DESIGN.md, privacy invariant 5):
--   release_delta  the δ the release has: privacy.ReleaseDelta, the chance
--                  that a one-user group passes the k threshold at some
--                  level, which the configured delta only bounds;
--   key_id         privacy.KeyID of the secret that keyed the noise, a
--                  short HMAC of a fixed label, never the secret: a
--                  republish is free only under the same key id, since
--                  another secret draws other noise;
--   mode           production, development or test, the config's mode;
--   lease_token    the publish lease (publish_lease, 0011) the release was
--                  booked under, so an audit can tell publishers apart.
--
-- Plain ADD COLUMN, one column each, as in 0008: 18.16 has no IF NOT
-- EXISTS there, and migrate skips a column the table already has.
--
-- Rows written before this migration read the defaults: the configured
-- delta (at least the computed one, which publish checked), no key id
-- (so no later republish is free against them: their key is unknown), no
-- mode and lease token 0.
ALTER TABLE {{.DB}}.privacy_ledger{{onCluster}}
    ADD COLUMN release_delta Float64 DEFAULT delta AFTER delta;   -- the δ the release has (privacy.ReleaseDelta); 0 without noise
ALTER TABLE {{.DB}}.privacy_ledger{{onCluster}}
    ADD COLUMN key_id String AFTER input_digest;                  -- privacy.KeyID of the noise secret, 16 hex digits; '' before 0010
ALTER TABLE {{.DB}}.privacy_ledger{{onCluster}}
    ADD COLUMN mode String AFTER noise;                           -- production, development or test; '' before 0010
ALTER TABLE {{.DB}}.privacy_ledger{{onCluster}}
    ADD COLUMN lease_token UInt64 AFTER mode;                     -- publish_lease token held while booking; 0 before 0010
