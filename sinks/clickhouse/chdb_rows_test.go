package clickhouse

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/column"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// chdbRows are the rows of a JSONCompact result, scanned into the Go
// types clickhouse-go scans each ClickHouse type into.
type chdbRows struct {
	meta []chdbColumnType
	data [][]json.RawMessage
	next int // index of the row Scan reads, plus one
}

func parseChdbRows(out string) (*chdbRows, error) {
	var res struct {
		Meta []struct{ Name, Type string }
		Data [][]json.RawMessage
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		return nil, fmt.Errorf("chDB's JSONCompact result: %w", err)
	}
	r := &chdbRows{data: res.Data}
	for _, m := range res.Meta {
		r.meta = append(r.meta, chdbColumnType{name: m.Name, typ: m.Type})
	}
	return r, nil
}

func (r *chdbRows) Next() bool {
	if r.next >= len(r.data) {
		return false
	}
	r.next++
	return true
}

func (r *chdbRows) Scan(dest ...any) error {
	if r.next == 0 || r.next > len(r.data) {
		return errors.New("Scan without a row")
	}
	row := r.data[r.next-1]
	if len(dest) != len(row) {
		return fmt.Errorf("Scan into %d values, the row has %d columns", len(dest), len(row))
	}
	for i, d := range dest {
		if err := scanCell(row[i], r.meta[i].typ, d); err != nil {
			return fmt.Errorf("column %s (%s): %w", r.meta[i].name, r.meta[i].typ, err)
		}
	}
	return nil
}

// scanCell stores a JSON cell in dest: DateTime and Date text as
// time.Time in UTC (the session's zone), everything else as JSON decodes.
func scanCell(cell json.RawMessage, typ string, dest any) error {
	if t, ok := dest.(*time.Time); ok {
		var s string
		if err := json.Unmarshal(cell, &s); err != nil {
			return err
		}
		layout := time.DateTime
		if typ == "Date" {
			layout = time.DateOnly
		}
		v, err := time.ParseInLocation(layout, s, time.UTC)
		*t = v
		return err
	}
	if f, ok := dest.(*float64); ok && len(cell) > 0 && cell[0] == '"' {
		var s string
		if err := json.Unmarshal(cell, &s); err != nil {
			return err
		}
		v, err := strconv.ParseFloat(s, 64) // "nan", "inf", "-inf"
		*f = v
		return err
	}
	return json.Unmarshal(cell, dest)
}

func (r *chdbRows) ScanStruct(any) error {
	return errors.New("ScanStruct: not in the chDB test driver")
}
func (r *chdbRows) Totals(...any) error { return errors.New("Totals: not in the chDB test driver") }
func (r *chdbRows) Close() error        { return nil }
func (r *chdbRows) Err() error          { return nil }
func (r *chdbRows) HasData() bool       { return len(r.data) > 0 }
func (r *chdbRows) ColumnTypes() []driver.ColumnType {
	out := make([]driver.ColumnType, len(r.meta))
	for i := range r.meta {
		out[i] = r.meta[i]
	}
	return out
}

func (r *chdbRows) Columns() []string {
	out := make([]string, len(r.meta))
	for i, m := range r.meta {
		out[i] = m.name
	}
	return out
}

// chdbRow is QueryRow's answer.
type chdbRow struct {
	rows driver.Rows
	err  error
}

func (r *chdbRow) Err() error { return r.err }
func (r *chdbRow) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	if !r.rows.Next() {
		return errors.New("sql: no rows in result set")
	}
	return r.rows.Scan(dest...)
}
func (r *chdbRow) ScanStruct(any) error { return errors.New("ScanStruct: not in the chDB test driver") }

// chdbColumnType names a result column's type and the Go type
// clickhouse-go scans it into.
type chdbColumnType struct{ name, typ string }

func (c chdbColumnType) Name() string             { return c.name }
func (c chdbColumnType) Nullable() bool           { return false }
func (c chdbColumnType) DatabaseTypeName() string { return c.typ }
func (c chdbColumnType) ScanType() reflect.Type   { return scanType(c.typ) }

var scanTypes = map[string]reflect.Type{
	"DateTime": reflect.TypeFor[time.Time](), "Date": reflect.TypeFor[time.Time](),
	"String": reflect.TypeFor[string](),
	"UInt8":  reflect.TypeFor[uint8](), "UInt16": reflect.TypeFor[uint16](),
	"UInt32": reflect.TypeFor[uint32](), "UInt64": reflect.TypeFor[uint64](),
	"Int8": reflect.TypeFor[int8](), "Int16": reflect.TypeFor[int16](),
	"Int32": reflect.TypeFor[int32](), "Int64": reflect.TypeFor[int64](),
	"Float32": reflect.TypeFor[float32](), "Float64": reflect.TypeFor[float64](),
}

func scanType(typ string) reflect.Type {
	if elem, ok := strings.CutPrefix(typ, "Array("); ok {
		return reflect.SliceOf(scanType(strings.TrimSuffix(elem, ")")))
	}
	if t, ok := scanTypes[typ]; ok {
		return t
	}
	return reflect.TypeFor[json.RawMessage]()
}

// chdbBatch is a PrepareBatch insert: the rows are kept per column, as
// Append, Column(i).Append and AppendRow give them, and sent as
// JSONEachRow by Send, DateTime values as Unix seconds.
type chdbBatch struct {
	conn   *chdbConn
	insert string
	cols   []string
	values [][]any
	sent   bool
}

func newChdbBatch(c *chdbConn, insert string) (*chdbBatch, error) {
	m := insertColumns.FindStringSubmatch(insert)
	if m == nil {
		return nil, fmt.Errorf("PrepareBatch(%q): want INSERT INTO db.t (columns), as 18.16 needs", insert)
	}
	b := &chdbBatch{conn: c, insert: insert}
	for _, col := range strings.Split(m[1], ",") {
		b.cols = append(b.cols, strings.Trim(strings.TrimSpace(col), "`"))
	}
	b.values = make([][]any, len(b.cols))
	return b, nil
}

func (b *chdbBatch) Append(v ...any) error {
	if len(v) != len(b.cols) {
		return fmt.Errorf("Append of %d values into %d columns", len(v), len(b.cols))
	}
	for i := range v {
		b.values[i] = append(b.values[i], v[i])
	}
	return nil
}

func (b *chdbBatch) Column(i int) driver.BatchColumn { return chdbBatchColumn{b: b, i: i} }

func (b *chdbBatch) Send() error {
	b.sent = true
	n := len(b.values[0])
	var data bytes.Buffer
	enc := json.NewEncoder(&data)
	enc.SetEscapeHTML(false)
	for row := range n {
		obj := make(map[string]any, len(b.cols))
		for i, col := range b.cols {
			if len(b.values[i]) != n {
				return fmt.Errorf("column %s has %d values, column %s %d", col, len(b.values[i]), b.cols[0], n)
			}
			v := b.values[i][row]
			if t, ok := v.(time.Time); ok {
				v = t.Unix()
			}
			if f, ok := v.(float64); ok && (math.IsNaN(f) || math.IsInf(f, 0)) {
				// JSON has no NaN or infinity; ClickHouse reads "nan", "inf"
				// and "-inf" as Float64 (not bare: it expects null then).
				v = strings.ToLower(strings.TrimPrefix(strconv.FormatFloat(f, 'g', -1, 64), "+"))
			}
			obj[col] = v
		}
		if err := enc.Encode(obj); err != nil {
			return fmt.Errorf("row %d: %w", row, err)
		}
	}
	shown := b.insert + " FORMAT JSONEachRow"
	_, err := b.conn.run(shown+"\n"+data.String(), shown, n, "")
	return err
}

func (b *chdbBatch) Abort() error                { b.sent = true; return nil }
func (b *chdbBatch) Close() error                { b.sent = true; return nil }
func (b *chdbBatch) Flush() error                { return nil }
func (b *chdbBatch) IsSent() bool                { return b.sent }
func (b *chdbBatch) Rows() int                   { return len(b.values[0]) }
func (b *chdbBatch) Columns() []column.Interface { return nil }
func (b *chdbBatch) AppendStruct(any) error {
	return errors.New("AppendStruct: not in the chDB test driver")
}

type chdbBatchColumn struct {
	b *chdbBatch
	i int
}

// Append adds every element of a slice, as clickhouse-go's columnar
// Append does.
func (c chdbBatchColumn) Append(v any) error {
	s := reflect.ValueOf(v)
	if s.Kind() != reflect.Slice {
		return fmt.Errorf("column %s: Append of a %T, want a slice", c.b.cols[c.i], v)
	}
	for j := range s.Len() {
		c.b.values[c.i] = append(c.b.values[c.i], s.Index(j).Interface())
	}
	return nil
}

func (c chdbBatchColumn) AppendRow(v any) error {
	c.b.values[c.i] = append(c.b.values[c.i], v)
	return nil
}
