-- feature_noise: the error bars of every release (issue 14): the standard
-- deviation of the noise of each published slot, one row per (release,
-- slot), and of the users count (index 4294967295, name "users"). A
-- release's noise depends only on its spec, so the rows are the same at
-- every publish of it: ReplacingMergeTree keeps one. Read by the
-- targeter (lookup prints value ± sigma; the SQL cookbook filters by
-- relative error), small: in cluster mode every node has all of it.
CREATE TABLE IF NOT EXISTS {{.PublishedDB}}.feature_noise{{onCluster}}
(
    release     String,   -- as cohort_enrichment.release
    feature_set UInt16,
    `index`     UInt32,   -- 0-based position in cohort_enrichment.features; 4294967295 for users
    name        String,   -- as feature_dictionary.name
    sigma       Float64   -- standard deviation of the slot's noise; nan for a slot of a block that is off
)
ENGINE = {{everywhere .PublishedDB "feature_noise" "ReplacingMergeTree"}}
ORDER BY (release, `index`);
