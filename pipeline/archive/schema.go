package archive

import "github.com/apache/arrow/go/v15/arrow"

// EventSchema is the Arrow schema of the Parquet and Arrow IPC files that
// Create writes: one column per v1 field, in contract order, none
// nullable. Readers accept other layouts too (see the package comment);
// this is the one we write.
//
//   - v int32: always 1.
//   - ts timestamp[ms, UTC]: the event time in epoch milliseconds, typed as
//     a time so that DuckDB, pandas and ClickHouse show dates; exact, since
//     the contract's unit is the millisecond.
//   - n int32: 0 to 86400 fits.
//   - every other field utf8, the contract's spelling ("" for no
//     category). Parquet dictionary-encodes these few distinct values by
//     itself; Arrow files hold them plain, readable by any Arrow reader.
var EventSchema = arrow.NewSchema([]arrow.Field{
	{Name: "v", Type: arrow.PrimitiveTypes.Int32},
	{Name: "id", Type: arrow.BinaryTypes.String},
	{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"}},
	{Name: "user", Type: arrow.BinaryTypes.String},
	{Name: "kind", Type: arrow.BinaryTypes.String},
	{Name: "peer", Type: arrow.BinaryTypes.String},
	{Name: "category", Type: arrow.BinaryTypes.String},
	{Name: "media", Type: arrow.BinaryTypes.String},
	{Name: "n", Type: arrow.PrimitiveTypes.Int32},
	{Name: "country", Type: arrow.BinaryTypes.String},
	{Name: "lang", Type: arrow.BinaryTypes.String},
	{Name: "age", Type: arrow.BinaryTypes.String},
	{Name: "platform", Type: arrow.BinaryTypes.String},
}, nil)
