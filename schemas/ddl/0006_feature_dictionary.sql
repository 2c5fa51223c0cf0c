-- feature_dictionary: names every slot of the published features array, per
-- feature set. ReplacingMergeTree so that writing a feature set's
-- dictionary again (each start of publish may) leaves one row per slot.
-- Small and read by the targeter: in cluster mode every node has all of it.
CREATE TABLE IF NOT EXISTS {{.PublishedDB}}.feature_dictionary{{onCluster}}
(
    feature_set UInt16,
    `index`     UInt32,   -- 0-based position in cohort_enrichment.features
    name        String,
    description String,
    unit        String
)
ENGINE = {{everywhere .PublishedDB "feature_dictionary" "ReplacingMergeTree"}}
ORDER BY (feature_set, `index`);
