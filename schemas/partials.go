package schemas

import (
	"time"

	"github.com/apache/arrow/go/v15/arrow"
)

// Cohort partials are the pipeline's internal output: for one event-time
// window, one Kafka partition (or backfill source shard) and one finest
// cohort, the additive feature partials of the users whose events that
// partition holds. Partials of the same window and cohort from different
// partitions add up exactly, because producers key the topic by user token
// and so each user lives in one partition (DESIGN.md, "Why per-partition
// state works"). They never leave the system: publish turns them into
// k-anonymous, noised cohort enrichments.
//
// PartialsSchema is the Arrow schema of a batch of partials: what
// cohorts builds when a window closes and what sinks write, column for
// column, into the cohort_partials table.
var PartialsSchema = arrow.NewSchema([]arrow.Field{
	{Name: "window_start", Type: arrow.FixedWidthTypes.Timestamp_ms}, // UTC, inclusive
	{Name: "window_end", Type: arrow.FixedWidthTypes.Timestamp_ms},   // UTC, exclusive
	{Name: "topic", Type: arrow.BinaryTypes.String},                  // source topic (or "backfill:<name>")
	{Name: "partition", Type: arrow.PrimitiveTypes.Int32},            // source partition
	{Name: "cohort_id", Type: arrow.PrimitiveTypes.Uint64},           // cityHash64(cohort_key)
	{Name: "cohort_key", Type: arrow.BinaryTypes.String},             // canonical finest key
	{Name: "feature_set", Type: arrow.PrimitiveTypes.Uint16},         // 1 for feature set v1
	{Name: "users", Type: arrow.PrimitiveTypes.Uint64},               // distinct users
	{Name: "events", Type: arrow.PrimitiveTypes.Uint64},              // events counted after bounding and dedup
	// values holds every additive slot of the feature set, in the order of
	// the feature dictionary (cohorts.FeatureSetV1): reach counts, bounded
	// sums, the activity histogram. Same length in every row of one set.
	{Name: "values", Type: arrow.ListOf(arrow.PrimitiveTypes.Uint64)},
	// flush_version orders re-flushes of the same (window, topic,
	// partition): readers use the rows of the highest version only.
	{Name: "flush_version", Type: arrow.PrimitiveTypes.Uint64},
}, nil)

// Column indexes of PartialsSchema, for builders and writers.
const (
	PartialWindowStart = iota
	PartialWindowEnd
	PartialTopic
	PartialPartition
	PartialCohortID
	PartialCohortKey
	PartialFeatureSet
	PartialUsers
	PartialEvents
	PartialValues
	PartialFlushVersion
)

// FirstBackfillVersion splits the flush versions of cohort_partials in two.
// Streaming flushes with the offset after the message that closed the
// window, always below it; a backfill flushes with FirstBackfillVersion |
// its start time in ms, always at or above it. So a backfill's rows replace
// streaming's for the windows it covers (readers take the highest version
// recorded in window_progress or backfill_progress), and a later backfill
// replaces an earlier one.
const FirstBackfillVersion uint64 = 1 << 63

// PartialRow is the partials of one cohort and window summed over every
// topic and partition (what sinks/clickhouse CurrentPartials reads and a
// backfill dry run computes): exact totals, because each user lives in one
// partition. This is what publish protects and publishes.
type PartialRow struct {
	WindowStart time.Time // UTC
	WindowEnd   time.Time // UTC
	CohortID    uint64
	CohortKey   string
	FeatureSet  uint16
	Users       uint64
	Events      uint64
	Values      []uint64 // element-wise sums
}
