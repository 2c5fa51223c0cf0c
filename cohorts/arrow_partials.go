package cohorts

import (
	"fmt"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"github.com/cohortline/cohortline/schemas"
)

// PartialsRecord builds the Arrow record batch of schemas.PartialsSchema
// for the partials of window w from one source partition: one row per
// Partial, in the order given (Partials' order, by cohort id), with
// feature_set PartialFeatureSet. topic is the source topic (or
// "backfill:<name>"); flushVersion orders re-flushes of the same
// (window, topic, partition).
//
// Every Partial must have NumPartialValues values; anything else is a broken
// invariant and panics.
//
// Release: the caller owns the returned record and must call its Release
// once done (after the sink has written it); the record holds references
// to its columns, and the builders used here are already released. The
// memory comes from mem, so a memory.CheckedAllocator in tests sees a leak
// if the record is never released. parts is not retained.
func PartialsRecord(mem memory.Allocator, w Window, topic string, partition int32, flushVersion uint64, parts []Partial) arrow.Record {
	b := array.NewRecordBuilder(mem, schemas.PartialsSchema)
	defer b.Release()
	b.Reserve(len(parts))

	start := b.Field(schemas.PartialWindowStart).(*array.TimestampBuilder)
	end := b.Field(schemas.PartialWindowEnd).(*array.TimestampBuilder)
	topics := b.Field(schemas.PartialTopic).(*array.StringBuilder)
	partitions := b.Field(schemas.PartialPartition).(*array.Int32Builder)
	ids := b.Field(schemas.PartialCohortID).(*array.Uint64Builder)
	keys := b.Field(schemas.PartialCohortKey).(*array.StringBuilder)
	sets := b.Field(schemas.PartialFeatureSet).(*array.Uint16Builder)
	users := b.Field(schemas.PartialUsers).(*array.Uint64Builder)
	events := b.Field(schemas.PartialEvents).(*array.Uint64Builder)
	lists := b.Field(schemas.PartialValues).(*array.ListBuilder)
	values := lists.ValueBuilder().(*array.Uint64Builder)
	versions := b.Field(schemas.PartialFlushVersion).(*array.Uint64Builder)

	values.Reserve(len(parts) * NumPartialValues())
	keyBuf := make([]byte, 0, maxKeyLen)
	for i := range parts {
		p := &parts[i]
		if len(p.Values) != NumPartialValues() {
			panic(fmt.Sprintf("BUG: partial of %s has %d values, partial layout %d has %d", p.Key, len(p.Values), PartialFeatureSet, NumPartialValues()))
		}
		start.UnsafeAppend(arrow.Timestamp(w.Start))
		end.UnsafeAppend(arrow.Timestamp(w.End))
		topics.Append(topic)
		partitions.UnsafeAppend(partition)
		ids.UnsafeAppend(p.ID)
		keyBuf = p.Key.AppendString(keyBuf[:0])
		keys.BinaryBuilder.Append(keyBuf)
		sets.UnsafeAppend(PartialFeatureSet)
		users.UnsafeAppend(p.Users)
		events.UnsafeAppend(p.Events)
		lists.Append(true)
		values.AppendValues(p.Values, nil)
		versions.UnsafeAppend(flushVersion)
	}
	return b.NewRecord()
}
