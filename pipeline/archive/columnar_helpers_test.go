package archive

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/ipc"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"
)

// buildRecord makes one record batch of schema whose columns fill appends.
func buildRecord(schema *arrow.Schema, fill func(b *array.RecordBuilder)) arrow.Record {
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	fill(b)
	return b.NewRecord()
}

// writeRecords writes recs to dir/name as Parquet (".parquet"), an Arrow
// IPC stream (".arrows") or an Arrow IPC file (any other name), the way
// another program would, not through Create.
func writeRecords(t testing.TB, dir, name string, recs ...arrow.Record) string {
	t.Helper()
	path := filepath.Join(dir, name)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	schema := recs[0].Schema()
	var w recordWriter
	switch filepath.Ext(name) {
	case ".parquet":
		w, err = pqarrow.NewFileWriter(schema, f, nil, pqarrow.DefaultWriterProps())
	case ".arrows":
		w = ipc.NewWriter(f, ipc.WithSchema(schema))
	default:
		w, err = ipc.NewFileWriter(f, ipc.WithSchema(schema))
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range recs {
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// appendStrings appends values to a string-like builder; "<null>" is null.
func appendStrings(b array.Builder, values ...string) {
	for _, v := range values {
		if v == "<null>" {
			b.AppendNull()
			continue
		}
		switch b := b.(type) {
		case *array.StringBuilder:
			b.Append(v)
		case *array.LargeStringBuilder:
			b.Append(v)
		case *array.BinaryBuilder:
			b.AppendString(v)
		case *array.BinaryDictionaryBuilder:
			if err := b.AppendString(v); err != nil {
				panic(err)
			}
		default:
			panic("appendStrings: no strings for " + b.Type().String())
		}
	}
}
