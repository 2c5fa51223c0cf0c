-- privacy_ledger, the zCDP accounting of releases (feature set 2, issue
-- 14): releases compose by adding rho, and the per-person-day and week
-- budgets convert the sum to (epsilon, delta):
--   rho        the release's rho (a pure-epsilon block counts epsilon²/2);
--   rho_spent  what it added to the budget: rho, or 0 for a republish of
--              identical partials, as epsilon_spent.
--
-- Plain ADD COLUMN, one column each, as in 0008 and 0010.
--
-- Rows written before this migration were pure-epsilon releases: they
-- read rho = epsilon²/2 (epsilon-DP implies epsilon²/2-zCDP; the sum of
-- the blocks' epsilon_b²/2 would be smaller, so this over-counts their
-- spending rather than under-counting it).
ALTER TABLE {{.DB}}.privacy_ledger{{onCluster}}
    ADD COLUMN rho Float64 DEFAULT epsilon * epsilon / 2 AFTER epsilon;                    -- zCDP rho of the release; 0 without noise
ALTER TABLE {{.DB}}.privacy_ledger{{onCluster}}
    ADD COLUMN rho_spent Float64 DEFAULT epsilon_spent * epsilon_spent / 2 AFTER epsilon_spent; -- rho, or 0 for a republish of identical partials
