package cohorts

import (
	"slices"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"github.com/cohortline/cohortline/schemas"
)

// TestPartialsRecordRoundTrip builds the record of every window of
// generated data, reads each column back and compares it with the
// partials; the checked allocator proves the record frees everything on
// Release.
func TestPartialsRecordRoundTrip(t *testing.T) {
	spec := DefaultSpec()
	states, _ := runStates(t, spec, testData(t))
	states[testWindow] = NewWindowState(&spec, testWindow) // an empty window: zero rows
	for w, s := range states {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		parts := s.Partials()
		rec := PartialsRecord(mem, w, "activity", 7, 42, parts)
		if !rec.Schema().Equal(schemas.PartialsSchema) {
			t.Fatalf("schema %v", rec.Schema())
		}
		if got := readPartials(t, rec, w, "activity", 7, 42); !equalPartials(got, parts) {
			t.Errorf("window %s: round trip differs", w)
		}
		rec.Release()
		mem.AssertSize(t, 0)
	}
}

// readPartials reads a record back into partials, checking the columns
// that are the same on every row.
func readPartials(t *testing.T, rec arrow.Record, w Window, topic string, partition int32, version uint64) []Partial {
	t.Helper()
	col := func(i int) arrow.Array { return rec.Column(i) }
	start := col(schemas.PartialWindowStart).(*array.Timestamp)
	end := col(schemas.PartialWindowEnd).(*array.Timestamp)
	topics := col(schemas.PartialTopic).(*array.String)
	partitions := col(schemas.PartialPartition).(*array.Int32)
	ids := col(schemas.PartialCohortID).(*array.Uint64)
	keys := col(schemas.PartialCohortKey).(*array.String)
	sets := col(schemas.PartialFeatureSet).(*array.Uint16)
	users := col(schemas.PartialUsers).(*array.Uint64)
	events := col(schemas.PartialEvents).(*array.Uint64)
	lists := col(schemas.PartialValues).(*array.List)
	values := lists.ListValues().(*array.Uint64)
	versions := col(schemas.PartialFlushVersion).(*array.Uint64)
	var out []Partial
	for i := range int(rec.NumRows()) {
		if int64(start.Value(i)) != w.Start || int64(end.Value(i)) != w.End || topics.Value(i) != topic ||
			partitions.Value(i) != partition || sets.Value(i) != PartialFeatureSet || versions.Value(i) != version {
			t.Fatalf("row %d: constant columns wrong", i)
		}
		k, err := ParseKey(DefaultSpec(), keys.Value(i))
		if err != nil {
			t.Fatalf("row %d: %v", i, err)
		}
		lo, hi := lists.ValueOffsets(i)
		out = append(out, Partial{
			Key: k, ID: ids.Value(i), Users: users.Value(i), Events: events.Value(i),
			Values: slices.Clone(values.Uint64Values()[lo:hi]),
		})
	}
	return out
}

func equalPartials(a, b []Partial) bool {
	return slices.EqualFunc(a, b, func(x, y Partial) bool {
		return x.Key == y.Key && x.ID == y.ID && x.Users == y.Users && x.Events == y.Events && slices.Equal(x.Values, y.Values)
	})
}

func TestPartialsRecordRejectsWrongWidth(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic for a partial of the wrong width")
		}
	}()
	PartialsRecord(memory.NewGoAllocator(), testWindow, "t", 0, 1, []Partial{{Values: make([]uint64, 3)}})
}
