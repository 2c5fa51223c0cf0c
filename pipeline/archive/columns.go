package archive

import (
	"fmt"
	"strconv"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"

	"github.com/cohortline/cohortline/schemas"
)

// cellWriter appends the JSON value of row i of one column to dst, or
// returns false, having appended nothing, when the value is null.
type cellWriter func(dst []byte, i int) ([]byte, bool)

// column is a v1 field found in a file's schema.
type column struct {
	key   []byte                       // `"name":`
	index int                          // in the file's (or the source's) schema
	bind  func(arrow.Array) cellWriter // for the field's Arrow type
	write cellWriter                   // bound to the current batch
}

// rowEncoder turns the rows of record batches into v1 JSON.
type rowEncoder struct {
	cols []column // in contract field order: the order AppendJSON writes
}

// newRowEncoder matches the fields of schema to the v1 fields by name. It fails
// on a field of a type the contract cannot take and on a name that appears
// twice (which of the two would be the event's?).
func newRowEncoder(schema *arrow.Schema) (*rowEncoder, error) {
	r := &rowEncoder{}
	for _, name := range schemas.FieldNames() {
		idx := schema.FieldIndices(name)
		switch len(idx) {
		case 0:
			continue
		case 1:
		default:
			return nil, fmt.Errorf("column %q appears %d times", name, len(idx))
		}
		dt := schema.Field(idx[0]).Type
		bind := binderFor(name, dt)
		if bind == nil {
			return nil, fmt.Errorf("column %q has type %s, which field %s cannot take (see package archive)", name, dt, name)
		}
		r.cols = append(r.cols, column{key: []byte(`"` + name + `":`), index: idx[0], bind: bind})
	}
	return r, nil
}

// bindBatch points the columns at rec's arrays, for appendRow.
func (r *rowEncoder) bindBatch(rec arrow.Record) {
	for i := range r.cols {
		c := &r.cols[i]
		c.write = c.bind(rec.Column(c.index))
	}
}

// appendRow appends row i of the bound batch as one JSON object. Null cells
// are left out, as a producer leaves out a field it has no value for.
func (r *rowEncoder) appendRow(dst []byte, i int) []byte {
	dst = append(dst, '{')
	start := len(dst)
	for _, c := range r.cols {
		mark := len(dst)
		if mark > start {
			dst = append(dst, ',')
		}
		var ok bool
		if dst, ok = c.write(append(dst, c.key...), i); !ok {
			dst = dst[:mark]
		}
	}
	return append(dst, '}')
}

// binderFor returns how to write values of type dt for field name, or nil
// when the contract cannot take that type there.
func binderFor(name string, dt arrow.DataType) func(arrow.Array) cellWriter {
	numeric := name == "v" || name == "ts" || name == "n"
	switch dt.ID() {
	case arrow.STRING, arrow.LARGE_STRING, arrow.BINARY, arrow.LARGE_BINARY:
		if !numeric {
			return bindText
		}
	case arrow.DICTIONARY:
		if !numeric && binderFor(name, dt.(*arrow.DictionaryType).ValueType) != nil {
			return bindDictionary
		}
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64,
		arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.UINT64:
		if numeric {
			return bindInteger
		}
	case arrow.TIMESTAMP:
		if name == "ts" {
			return bindTimestamp
		}
	}
	return nil
}

func bindText(arr arrow.Array) cellWriter {
	switch a := arr.(type) {
	case *array.String:
		return text(a, a.ValueOffsets(), a.ValueBytes())
	case *array.LargeString:
		return text(a, a.ValueOffsets(), a.ValueBytes())
	case *array.Binary:
		return text(a, a.ValueOffsets(), a.ValueBytes())
	case *array.LargeBinary:
		return text(a, a.ValueOffsets(), a.ValueBytes())
	}
	panic(fmt.Sprintf("BUG: binderFor accepted %s as text", arr.DataType()))
}

// text writes the values of a string or binary array, small or large: one
// buffer of bytes (data, from the offset of row 0 on) cut by offsets. The
// bytes are used in place; Value(i) of a string array would give a string,
// and turning it back into bytes would allocate.
func text[O int32 | int64](a arrow.Array, offsets []O, data []byte) cellWriter {
	return func(dst []byte, i int) ([]byte, bool) {
		if a.IsNull(i) {
			return dst, false
		}
		base := offsets[0]
		return schemas.AppendJSONString(dst, data[offsets[i]-base:offsets[i+1]-base]), true
	}
}

func bindDictionary(arr arrow.Array) cellWriter {
	a := arr.(*array.Dictionary)
	dict := a.Dictionary()
	values := bindText(dict)
	return func(dst []byte, i int) ([]byte, bool) {
		if a.IsNull(i) {
			return dst, false
		}
		return values(dst, a.GetValueIndex(i))
	}
}

func bindInteger(arr arrow.Array) cellWriter {
	switch a := arr.(type) {
	case *array.Int8:
		return signed(a, a.Int8Values())
	case *array.Int16:
		return signed(a, a.Int16Values())
	case *array.Int32:
		return signed(a, a.Int32Values())
	case *array.Int64:
		return signed(a, a.Int64Values())
	case *array.Uint8:
		return unsigned(a, a.Uint8Values())
	case *array.Uint16:
		return unsigned(a, a.Uint16Values())
	case *array.Uint32:
		return unsigned(a, a.Uint32Values())
	case *array.Uint64:
		return unsigned(a, a.Uint64Values())
	}
	panic(fmt.Sprintf("BUG: binderFor accepted %s as an integer", arr.DataType()))
}

func signed[T int8 | int16 | int32 | int64](a arrow.Array, values []T) cellWriter {
	return func(dst []byte, i int) ([]byte, bool) {
		if a.IsNull(i) {
			return dst, false
		}
		return strconv.AppendInt(dst, int64(values[i]), 10), true
	}
}

// unsigned writes uint64 values above MaxInt64 as they are: the decoder
// then rejects them as out of range, as it would the same number in JSON.
func unsigned[T uint8 | uint16 | uint32 | uint64](a arrow.Array, values []T) cellWriter {
	return func(dst []byte, i int) ([]byte, bool) {
		if a.IsNull(i) {
			return dst, false
		}
		return strconv.AppendUint(dst, uint64(values[i]), 10), true
	}
}

func bindTimestamp(arr arrow.Array) cellWriter {
	a := arr.(*array.Timestamp)
	unit := a.DataType().(*arrow.TimestampType).Unit
	values := a.TimestampValues()
	return func(dst []byte, i int) ([]byte, bool) {
		if a.IsNull(i) {
			return dst, false
		}
		return strconv.AppendInt(dst, epochMillis(int64(values[i]), unit), 10), true
	}
}

// epochMillis converts a timestamp to Unix epoch milliseconds, rounding
// down (floor, also before 1970). Seconds beyond what milliseconds can hold
// saturate: the decoder then says ts_out_of_range, as for such a number in
// JSON.
func epochMillis(v int64, unit arrow.TimeUnit) int64 {
	switch unit {
	case arrow.Second:
		const limit = (1<<63 - 1) / 1000
		switch {
		case v > limit:
			return 1<<63 - 1
		case v < -limit:
			return -1 << 63
		}
		return v * 1000
	case arrow.Microsecond:
		return floorDiv(v, 1000)
	case arrow.Nanosecond:
		return floorDiv(v, 1000_000)
	}
	return v
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b < 0 {
		q--
	}
	return q
}
