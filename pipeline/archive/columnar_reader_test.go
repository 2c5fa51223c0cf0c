package archive

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"

	"github.com/cohortline/cohortline/schemas"
)

const token = "u_abcdefghijklmnop" // a valid user token

// A Parquet export with its own layout: ts in microseconds, no category
// column, nullable n, an extra column. Missing and null fields are absent
// from the JSON, so the decoder gives the reasons a JSON producer would get.
func TestArchiveParquetOtherLayout(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "extra", Type: arrow.PrimitiveTypes.Float64},
		{Name: "platform", Type: arrow.BinaryTypes.String},
		{Name: "v", Type: arrow.PrimitiveTypes.Int64},
		{Name: "id", Type: arrow.BinaryTypes.String},
		{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Microsecond}},
		{Name: "user", Type: arrow.BinaryTypes.String},
		{Name: "kind", Type: arrow.BinaryTypes.String},
		{Name: "peer", Type: arrow.BinaryTypes.String},
		{Name: "media", Type: arrow.BinaryTypes.String},
		{Name: "n", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "country", Type: arrow.BinaryTypes.String},
		{Name: "lang", Type: arrow.BinaryTypes.String},
		{Name: "age", Type: arrow.BinaryTypes.String},
	}, nil)
	rec := buildRecord(schema, func(b *array.RecordBuilder) {
		b.Field(0).(*array.Float64Builder).AppendValues([]float64{1.5, 2.5, 3.5}, nil)
		appendStrings(b.Field(1), "ios", "ios", "ios")
		b.Field(2).(*array.Int64Builder).AppendValues([]int64{1, 1, 1}, nil)
		appendStrings(b.Field(3), "e1", "e2", "e3")
		b.Field(4).(*array.TimestampBuilder).AppendValues([]arrow.Timestamp{1_700_000_000_123_999, 1_700_000_000_000_000, 1_700_000_000_000_000}, nil)
		appendStrings(b.Field(5), token, token, token)
		appendStrings(b.Field(6), "call", "message_sent", "message_sent")
		appendStrings(b.Field(7), "individual", "business", "group")
		appendStrings(b.Field(8), "voice", "text", "text")
		b.Field(9).(*array.Int64Builder).AppendValues([]int64{60, 1, 0}, []bool{true, true, false})
		appendStrings(b.Field(10), "BR", "BR", "BR")
		appendStrings(b.Field(11), "pt", "pt", "pt")
		appendStrings(b.Field(12), "25-34", "25-34", "25-34")
	})
	defer rec.Release()
	recs := readFile(t, writeRecords(t, t.TempDir(), "export.parquet", rec))
	if len(recs) != 3 {
		t.Fatalf("read %d records, want 3", len(recs))
	}
	const row1 = `{"v":1,"id":"e1","ts":1700000000123,"user":"` + token + `","kind":"call","peer":"individual","media":"voice","n":60,"country":"BR","lang":"pt","age":"25-34","platform":"ios"}`
	if got := string(recs[0].value); got != row1 {
		t.Errorf("row 1 =\n %s\nwant\n %s", got, row1)
	}
	ev, reason := decode(recs[0].value)
	if reason != "" || ev.TS != 1_700_000_000_123 || ev.Kind != schemas.KindCall || ev.N != 60 || ev.Category != schemas.CategoryNone {
		t.Errorf("row 1 decodes to %+v (rejected: %q)", ev, reason)
	}
	if _, reason := decode(recs[1].value); reason != schemas.MissingField("category") {
		t.Errorf("row 2 (peer business, no category column) rejected as %q, want missing_field:category", reason)
	}
	if _, reason := decode(recs[2].value); reason != schemas.MissingField("n") {
		t.Errorf("row 3 (n null) rejected as %q, want missing_field:n; JSON %s", reason, recs[2].value)
	}
}

// The other accepted types — small and unsigned integers, an integer ts,
// binary, large strings, dictionaries — give the same event in every
// columnar format, the Arrow stream format included.
func TestArchiveColumnTypes(t *testing.T) {
	dict := func(index arrow.DataType, value arrow.DataType) arrow.DataType {
		return &arrow.DictionaryType{IndexType: index, ValueType: value}
	}
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "v", Type: arrow.PrimitiveTypes.Uint8},
		{Name: "id", Type: arrow.BinaryTypes.Binary},
		{Name: "ts", Type: arrow.PrimitiveTypes.Int64},
		{Name: "user", Type: arrow.BinaryTypes.LargeString},
		{Name: "kind", Type: dict(arrow.PrimitiveTypes.Int8, arrow.BinaryTypes.String)},
		{Name: "peer", Type: dict(arrow.PrimitiveTypes.Int32, arrow.BinaryTypes.String)},
		{Name: "category", Type: arrow.BinaryTypes.String},
		{Name: "media", Type: arrow.BinaryTypes.LargeString},
		{Name: "n", Type: arrow.PrimitiveTypes.Int16},
		{Name: "country", Type: arrow.BinaryTypes.Binary},
		{Name: "lang", Type: arrow.BinaryTypes.String},
		{Name: "age", Type: arrow.BinaryTypes.String},
		{Name: "platform", Type: arrow.BinaryTypes.String},
	}, nil)
	rec := buildRecord(schema, func(b *array.RecordBuilder) {
		b.Field(0).(*array.Uint8Builder).AppendValues([]uint8{1, 1}, nil)
		appendStrings(b.Field(1), `quote"back\slash`, "e-é-😀")
		b.Field(2).(*array.Int64Builder).AppendValues([]int64{1_700_000_000_001, 1_700_000_000_002}, nil)
		appendStrings(b.Field(3), token, token+"x")
		appendStrings(b.Field(4), "order_placed", "message_sent")
		appendStrings(b.Field(5), "business", "group")
		appendStrings(b.Field(6), "grocery", "")
		appendStrings(b.Field(7), "none", "sticker")
		b.Field(8).(*array.Int16Builder).AppendValues([]int16{1, 1}, nil)
		appendStrings(b.Field(9), "DE", "US")
		appendStrings(b.Field(10), "de", "en")
		appendStrings(b.Field(11), "65+", "unknown")
		appendStrings(b.Field(12), "web", "desktop")
	})
	defer rec.Release()
	grocery, _ := schemas.ParseCategory([]byte("grocery"))
	want := []schemas.Event{
		{ID: []byte(`quote"back\slash`), User: []byte(token), TS: 1_700_000_000_001, N: 1, Category: grocery,
			Kind: schemas.KindOrderPlaced, Peer: schemas.PeerBusiness, Media: schemas.MediaNone, Age: schemas.Age65Plus,
			Platform: schemas.PlatformWeb, Country: schemas.Country{'D', 'E'}, Lang: schemas.Lang{'d', 'e'}},
		{ID: []byte("e-é-😀"), User: []byte(token + "x"), TS: 1_700_000_000_002, N: 1,
			Kind: schemas.KindMessageSent, Peer: schemas.PeerGroup, Media: schemas.MediaSticker, Age: schemas.AgeUnknown,
			Platform: schemas.PlatformDesktop, Country: schemas.Country{'U', 'S'}, Lang: schemas.Lang{'e', 'n'}},
	}
	dir := t.TempDir()
	for _, name := range []string{"types.arrows", "types.arrow", "types.parquet"} {
		t.Run(name, func(t *testing.T) {
			recs := readFile(t, writeRecords(t, dir, name, rec))
			if len(recs) != len(want) {
				t.Fatalf("read %d records, want %d", len(recs), len(want))
			}
			for i, r := range recs {
				got, reason := decode(r.value)
				if reason != "" || !eventsEqual(&got, &want[i]) {
					t.Errorf("row %d: %s decodes to %+v (rejected: %q), want %+v", r.row, r.value, got, reason, want[i])
				}
			}
		})
	}
}

func TestArchiveUnsupportedColumn(t *testing.T) {
	tests := []struct {
		field arrow.Field
		want  string // in the error
	}{
		{arrow.Field{Name: "ts", Type: arrow.PrimitiveTypes.Float64}, `"ts" has type float64`},
		{arrow.Field{Name: "n", Type: arrow.BinaryTypes.String}, `"n" has type utf8`},
		{arrow.Field{Name: "kind", Type: arrow.PrimitiveTypes.Int32}, `"kind" has type int32`},
		{arrow.Field{Name: "v", Type: arrow.FixedWidthTypes.Boolean}, `"v" has type bool`},
		{arrow.Field{Name: "n", Type: &arrow.TimestampType{Unit: arrow.Second}}, `"n" has type timestamp`},
		{arrow.Field{Name: "id", Type: arrow.ListOf(arrow.BinaryTypes.String)}, `"id" has type list`},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		for _, ext := range []string{".parquet", ".arrow"} {
			t.Run(tt.field.Name+"_"+tt.field.Type.String()+ext, func(t *testing.T) {
				schema := arrow.NewSchema([]arrow.Field{{Name: "user", Type: arrow.BinaryTypes.String}, tt.field}, nil)
				rec := buildRecord(schema, func(b *array.RecordBuilder) {
					for _, f := range b.Fields() {
						f.AppendNull()
					}
				})
				defer rec.Release()
				path := writeRecords(t, dir, tt.field.Name+"_"+tt.field.Type.ID().String()+ext, rec)
				r, err := Open(path)
				if err == nil {
					r.Close()
				}
				var fe *FileError
				if !errors.As(err, &fe) || fe.Row != 0 || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("Open = %v, want a FileError at row 0 saying %s", err, tt.want)
				}
			})
		}
	}
}

func TestArchiveDuplicateColumn(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.BinaryTypes.String}, {Name: "id", Type: arrow.BinaryTypes.String}}, nil)
	rec := buildRecord(schema, func(b *array.RecordBuilder) { appendStrings(b.Field(0), "a"); appendStrings(b.Field(1), "b") })
	defer rec.Release()
	_, err := Open(writeRecords(t, t.TempDir(), "dup.arrow", rec))
	if err == nil || !strings.Contains(err.Error(), `column "id" appears 2 times`) {
		t.Fatalf("Open = %v, want an error about the repeated column", err)
	}
}

// A file without any v1 column still has rows; each is "{}".
func TestArchiveNoKnownColumns(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{{Name: "other", Type: arrow.PrimitiveTypes.Int64}}, nil)
	rec := buildRecord(schema, func(b *array.RecordBuilder) {
		b.Field(0).(*array.Int64Builder).AppendValues([]int64{1, 2, 3}, nil)
	})
	defer rec.Release()
	dir := t.TempDir()
	for _, name := range []string{"none.parquet", "none.arrow"} {
		recs := readFile(t, writeRecords(t, dir, name, rec, rec))
		if len(recs) != 6 || string(recs[5].value) != "{}" || recs[5].row != 6 {
			t.Fatalf("%s: read %d records, last %+v; want 6 of {}", name, len(recs), recs[len(recs)-1])
		}
		if _, reason := decode(recs[0].value); reason != schemas.MissingField("v") {
			t.Errorf("%s: {} rejected as %q", name, reason)
		}
	}
}

// Empty record batches, which some writers produce, are passed over.
func TestArchiveEmptyBatch(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{{Name: "v", Type: arrow.PrimitiveTypes.Int64}, {Name: "id", Type: arrow.BinaryTypes.String}}, nil)
	full := buildRecord(schema, func(b *array.RecordBuilder) {
		b.Field(0).(*array.Int64Builder).AppendValues([]int64{1, 1}, nil)
		appendStrings(b.Field(1), "a", "b")
	})
	defer full.Release()
	empty := buildRecord(schema, func(*array.RecordBuilder) {})
	defer empty.Release()
	for _, name := range []string{"empty.arrow", "empty.arrows"} {
		recs := readFile(t, writeRecords(t, t.TempDir(), name, empty, full, empty, full))
		if len(recs) != 4 || recs[3].row != 4 || string(recs[3].value) != `{"v":1,"id":"b"}` {
			t.Fatalf("%s: read %+v, want 4 records", name, recs)
		}
	}
}

// Every cut of a Parquet or Arrow file, and of an Arrow stream, is
// reported as a FileError: at Open when the footer is gone, at the row
// where the stream breaks otherwise. None reads as a shorter good file.
func TestArchiveTruncatedColumnar(t *testing.T) {
	events := generate(t, 3000, 5)
	dir := t.TempDir()
	for _, name := range []string{"e.parquet", "e.arrow", "e.arrows"} {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(writeFile(t, dir, name, events))
			if err != nil {
				t.Fatal(err)
			}
			cut := filepath.Join(dir, "cut"+filepath.Ext(name))
			for size := 0; size < len(data); size += 1 + len(data)/300 {
				if err := os.WriteFile(cut, data[:size], 0o644); err != nil {
					t.Fatal(err)
				}
				err := readBroken(t, cut)
				var fe *FileError
				if !errors.As(err, &fe) {
					t.Fatalf("file cut to %d of %d bytes read with error %v, want a FileError", size, len(data), err)
				}
			}
		})
	}
}

// A stream cut between two messages reads like a shorter stream to the
// Arrow library; only the missing end-of-stream marker shows the cut.
func TestArchiveArrowStreamWithoutEOS(t *testing.T) {
	dir := t.TempDir()
	data, err := os.ReadFile(writeFile(t, dir, "e.arrows", generate(t, 100, 8)))
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(dir, "cut.arrows")
	if err := os.WriteFile(cut, data[:len(data)-8], 0o644); err != nil { // the marker is 8 bytes
		t.Fatal(err)
	}
	r, err := Open(cut)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	recs, err := readAll(t, r)
	var fe *FileError
	if !errors.As(err, &fe) || fe.Row != int64(len(recs))+1 || !errors.Is(err, errNoEOS) {
		t.Fatalf("after %d records: %v, want the FileError of a missing end-of-stream marker", len(recs), err)
	}
}

// readBroken opens and reads path whole and returns the error that ended
// it: from Open, or the FileError of Next (nil when it read to io.EOF).
func readBroken(t *testing.T, path string) error {
	r, err := Open(path)
	if err != nil {
		return err
	}
	defer r.Close()
	_, err = readAll(t, r)
	return err
}

// Overwritten bytes anywhere in a columnar file give a FileError or some
// rows (the decoder judges those), never a panic.
func TestArchiveCorruptColumnar(t *testing.T) {
	events := generate(t, 500, 6)
	dir := t.TempDir()
	for _, name := range []string{"e.parquet", "e.arrow", "e.arrows"} {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(writeFile(t, dir, name, events))
			if err != nil {
				t.Fatal(err)
			}
			bad := filepath.Join(dir, "bad"+filepath.Ext(name))
			for at := 0; at < len(data); at += 1 + len(data)/300 {
				broken := append([]byte(nil), data...)
				for i := at; i < min(at+8, len(broken)); i++ {
					broken[i] ^= 0xa5
				}
				if err := os.WriteFile(bad, broken, 0o644); err != nil {
					t.Fatal(err)
				}
				readBroken(t, bad) // readAll fails the test on an error that is not a FileError
			}
		})
	}
}

// A stream whose first message claims nearly 2 GiB of metadata (found by
// FuzzArchiveColumnar, which then died: arrow/go makes a slice of that
// length before reading) is refused as corrupt without allocating it.
func TestArchiveStreamHugeMetadataLength(t *testing.T) {
	for name, data := range map[string][]byte{
		"legacy length":      []byte("\x98ggt"),
		"after continuation": append([]byte{0xff, 0xff, 0xff, 0xff}, []byte("\x98ggt....")...),
	} {
		path := filepath.Join(t.TempDir(), "huge.arrows")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		err := readBroken(t, path)
		runtime.ReadMemStats(&after)
		var fe *FileError
		if !errors.As(err, &fe) {
			t.Errorf("%s: %v, want a FileError", name, err)
		}
		if grew := after.TotalAlloc - before.TotalAlloc; grew > 64<<20 {
			t.Errorf("%s: reading allocated %d MiB, want no buffer sized by the corrupt length", name, grew>>20)
		}
	}
}
