package clickhouse

import (
	"errors"
	"fmt"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"

	"github.com/cohortline/cohortline/schemas"
)

// partialColumns are the columns of one flush as clickhouse-go appends them
// without reflection: typed slices. Fixed-width columns are the Arrow
// buffers themselves and values rows are sub-slices of the Arrow child
// array, so only timestamps and strings are copied (as seconds and as
// string headers pointing into the record).
type partialColumns struct {
	rows                    int
	windowStart, windowEnd  []int64 // Unix seconds: DateTime's precision
	topic, cohortKey        []string
	partition               []int32
	cohortID, users, events []uint64
	featureSet              []uint16
	values                  [][]uint64
	flushVersion            []uint64
	flushedAt               []int64
}

// slices returns the columns in partialColumnNames order, nil for values
// (appended row by row).
func (c *partialColumns) slices() []any {
	return []any{
		c.windowStart, c.windowEnd, c.topic, c.partition, c.cohortID, c.cohortKey,
		c.featureSet, c.users, c.events, nil, c.flushVersion, c.flushedAt,
	}
}

func (c *partialColumns) setFlushedAt(t time.Time) {
	c.flushedAt = make([]int64, c.rows)
	for i := range c.flushedAt {
		c.flushedAt[i] = t.Unix()
	}
}

// partialColumnsOf checks rec against PartialsSchema and p (every row must
// belong to p's window, topic, partition and version) and converts it.
func partialColumnsOf(rec arrow.Record, p schemas.Flush) (*partialColumns, error) {
	if !rec.Schema().Equal(schemas.PartialsSchema) {
		return nil, fmt.Errorf("record schema is not schemas.PartialsSchema: %s", rec.Schema())
	}
	n := int(rec.NumRows())
	if n != p.Rows {
		return nil, fmt.Errorf("record has %d rows, progress says %d", n, p.Rows)
	}
	if p.WindowStart%1000 != 0 {
		return nil, fmt.Errorf("window start %s is not a whole second", time.UnixMilli(p.WindowStart).UTC().Format(time.RFC3339Nano))
	}
	for i, col := range rec.Columns() {
		if col.NullN() > 0 {
			return nil, fmt.Errorf("column %s has %d nulls", rec.ColumnName(i), col.NullN())
		}
	}
	c := &partialColumns{rows: n}
	var err error
	if c.windowStart, err = seconds(rec.Column(schemas.PartialWindowStart)); err != nil {
		return nil, fmt.Errorf("window_start: %w", err)
	}
	if c.windowEnd, err = seconds(rec.Column(schemas.PartialWindowEnd)); err != nil {
		return nil, fmt.Errorf("window_end: %w", err)
	}
	c.topic = stringsOf(rec.Column(schemas.PartialTopic).(*array.String))
	c.partition = rec.Column(schemas.PartialPartition).(*array.Int32).Int32Values()
	c.cohortID = rec.Column(schemas.PartialCohortID).(*array.Uint64).Uint64Values()
	c.cohortKey = stringsOf(rec.Column(schemas.PartialCohortKey).(*array.String))
	c.featureSet = rec.Column(schemas.PartialFeatureSet).(*array.Uint16).Uint16Values()
	c.users = rec.Column(schemas.PartialUsers).(*array.Uint64).Uint64Values()
	c.events = rec.Column(schemas.PartialEvents).(*array.Uint64).Uint64Values()
	c.values = listRows(rec.Column(schemas.PartialValues).(*array.List))
	c.flushVersion = rec.Column(schemas.PartialFlushVersion).(*array.Uint64).Uint64Values()
	return c, c.check(p)
}

// check holds every row to p: a row of another window or partition would
// be made visible, or hidden, by the wrong window_progress row.
func (c *partialColumns) check(p schemas.Flush) error {
	ws, we := p.WindowStart/1000, p.WindowEnd/1000
	for i := range c.rows {
		switch {
		case c.windowStart[i] != ws:
			return fmt.Errorf("row %d has window_start %s", i, time.Unix(c.windowStart[i], 0).UTC().Format(time.RFC3339))
		case p.WindowEnd != 0 && c.windowEnd[i] != we:
			return fmt.Errorf("row %d has window_end %s, progress says %s", i, time.Unix(c.windowEnd[i], 0).UTC().Format(time.RFC3339), time.Unix(we, 0).UTC().Format(time.RFC3339))
		case c.windowEnd[i] <= ws:
			return fmt.Errorf("row %d has window_end %s, not after window_start", i, time.Unix(c.windowEnd[i], 0).UTC().Format(time.RFC3339))
		case c.topic[i] != p.Topic:
			return fmt.Errorf("row %d has topic %q", i, c.topic[i])
		case c.partition[i] != int32(p.Partition):
			return fmt.Errorf("row %d has partition %d", i, c.partition[i])
		case c.flushVersion[i] != p.Version:
			return fmt.Errorf("row %d has flush_version %d", i, c.flushVersion[i])
		}
	}
	return nil
}

var errSubSecond = errors.New("timestamps must be whole seconds (ClickHouse DateTime)")

func seconds(col arrow.Array) ([]int64, error) {
	ts := col.(*array.Timestamp).TimestampValues()
	out := make([]int64, len(ts))
	for i, ms := range ts {
		if ms%1000 != 0 {
			return nil, fmt.Errorf("row %d: %w", i, errSubSecond)
		}
		out[i] = int64(ms) / 1000
	}
	return out, nil
}

// stringsOf returns the values of a; the strings share a's buffer (Arrow's
// Value does not copy), which outlives the insert.
func stringsOf(a *array.String) []string {
	out := make([]string, a.Len())
	for i := range out {
		out[i] = a.Value(i)
	}
	return out
}

func listRows(a *array.List) [][]uint64 {
	child := a.ListValues().(*array.Uint64).Uint64Values()
	out := make([][]uint64, a.Len())
	for i := range out {
		start, end := a.ValueOffsets(i)
		out[i] = child[start:end:end]
	}
	return out
}
