package archive

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cohortline/cohortline/schemas"
)

func TestArchiveNDJSONLinesAndRows(t *testing.T) {
	events := generate(t, 3, 1)
	line := func(i int) string { return string(schemas.AppendJSON(nil, &events[i])) }
	huge := `{"v":1,"pad":"` + strings.Repeat("x", 3*readBuffer) + `"}`
	exact := `{"pad":"` + strings.Repeat("y", schemas.MaxEventBytes-10) + `"}` // MaxEventBytes long
	content := line(0) + "\n" +                                                // row 1
		huge + "\n" + // row 2: longer than the read buffer
		"\n" + // row 3: blank
		" \t\r\n" + // row 4: blank
		line(1) + "\r\n" + // row 5
		exact + "\r\n" + // row 6: exactly the limit, before its CRLF
		line(2) // row 7, without a final newline
	path := filepath.Join(t.TempDir(), "lines.ndjson")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	recs := readFile(t, path)
	want := []struct {
		row    int64
		reason schemas.Reason
		event  int // index in events when reason is ""
		size   int // 0: not checked
	}{
		{1, "", 0, 0},
		{2, schemas.ReasonTooLarge, 0, schemas.MaxEventBytes + 1},
		{5, "", 1, 0},
		{6, schemas.MissingField("v"), 0, schemas.MaxEventBytes},
		{7, "", 2, 0},
	}
	if len(recs) != len(want) {
		t.Fatalf("read %d records, want %d", len(recs), len(want))
	}
	for i, w := range want {
		rec := recs[i]
		got, reason := decode(rec.value)
		if rec.row != w.row || reason != w.reason {
			t.Errorf("record %d: row %d rejected as %q, want row %d rejected as %q", i, rec.row, reason, w.row, w.reason)
		}
		if w.size > 0 && len(rec.value) != w.size {
			t.Errorf("row %d: %d bytes, want %d", rec.row, len(rec.value), w.size)
		}
		if w.reason == "" && !eventsEqual(&got, &events[w.event]) {
			t.Errorf("row %d: got %+v, want %+v", rec.row, got, events[w.event])
		}
	}
}

// Only the first MaxEventBytes+1 bytes of a long line are kept: reading a
// file of huge lines must not grow a buffer per line.
func TestArchiveNDJSONLongLinesBoundMemory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "long.ndjson")
	line := strings.Repeat("z", 4<<20) + "\n"
	if err := os.WriteFile(path, []byte(strings.Repeat(line, 4)), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	nr := r.(*ndjsonReader)
	for row := int64(1); row <= 4; row++ {
		v, got, err := r.Next()
		if err != nil || got != row || len(v) != schemas.MaxEventBytes+1 {
			t.Fatalf("Next = %d bytes, row %d, %v; want %d bytes, row %d", len(v), got, err, schemas.MaxEventBytes+1, row)
		}
		if c := cap(nr.line); c > 2*schemas.MaxEventBytes {
			t.Fatalf("line buffer grew to %d bytes", c)
		}
	}
}

func TestArchiveNDJSONTruncatedGzip(t *testing.T) {
	events := generate(t, 20_000, 2)
	dir := t.TempDir()
	full := writeFile(t, dir, "full.ndjson.gz", events)
	data, err := os.ReadFile(full)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "cut.ndjson.gz")
	if err := os.WriteFile(path, data[:len(data)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	recs, err := readAll(t, r)
	var fe *FileError
	if !errors.As(err, &fe) {
		t.Fatalf("reading a truncated gzip file ended with %v, want a *FileError", err)
	}
	// Every line before the break is whole; the break is on the next row
	// (the last line read may be cut anywhere, even inside its JSON).
	if len(recs) == 0 || len(recs) >= len(events) {
		t.Fatalf("read %d of %d records before the break", len(recs), len(events))
	}
	for i, rec := range recs[:len(recs)-1] {
		if got, reason := decode(rec.value); reason != "" || !eventsEqual(&got, &events[i]) {
			t.Fatalf("row %d before the break: %s (%q)", rec.row, rec.value, reason)
		}
	}
	if fe.Path != path || fe.Row != recs[len(recs)-1].row+1 {
		t.Errorf("FileError at %s row %d, want %s row %d", fe.Path, fe.Row, path, recs[len(recs)-1].row+1)
	}
	if !strings.HasPrefix(err.Error(), path+": row ") {
		t.Errorf("error %q does not start with the path and row", err)
	}
	if _, _, again := r.Next(); again != err {
		t.Errorf("Next after the break = %v, want the same error", again)
	}
}

func TestArchiveNDJSONNotGzip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "plain.json.gz")
	if err := os.WriteFile(path, []byte(`{"v":1}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Open(path)
	var fe *FileError
	if !errors.As(err, &fe) || fe.Row != 0 || !strings.Contains(err.Error(), "gzip") {
		t.Fatalf("Open(%s) = %v, want a FileError at row 0 about gzip", path, err)
	}
}
