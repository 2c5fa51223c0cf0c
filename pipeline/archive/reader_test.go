package archive

import (
	"bytes"
	"io"
	"os"
	"strings"
	"testing"
)

func TestArchiveFormatOf(t *testing.T) {
	tests := []struct {
		path   string
		format Format
		gz     bool
		ok     bool
	}{
		{"a.ndjson", NDJSON, false, true},
		{"dir.parquet/a.jsonl.gz", NDJSON, true, true},
		{"A.JSON.GZ", NDJSON, true, true},
		{"a.parquet", Parquet, false, true},
		{"a.arrow", ArrowIPC, false, true},
		{"a.arrows", ArrowIPC, false, true},
		{"a.ipc", ArrowIPC, false, true},
		{"a.feather", ArrowIPC, false, true},
		{"a.parquet.gz", 0, false, false}, // compressed inside already
		{"a.csv", 0, false, false},
		{"parquet", 0, false, false},
		{"a.gz", 0, false, false},
	}
	for _, tt := range tests {
		format, gz, err := FormatOf(tt.path)
		if (err == nil) != tt.ok || err == nil && (format != tt.format || gz != tt.gz) {
			t.Errorf("FormatOf(%q) = %v, %v, %v", tt.path, format, gz, err)
		}
		if err != nil && !strings.Contains(err.Error(), tt.path) {
			t.Errorf("FormatOf(%q): error %q does not name the file", tt.path, err)
		}
	}
}

// BytesRead counts the file's bytes, compressed, not what they inflate to.
func TestArchiveBytesRead(t *testing.T) {
	events := generate(t, 100_000, 3)
	dir := t.TempDir()
	for _, name := range []string{"e.ndjson", "e.ndjson.gz", "e.parquet", "e.arrow", "e.arrows"} {
		t.Run(name, func(t *testing.T) {
			path := writeFile(t, dir, name, events)
			st, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			r, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			var half int64 // BytesRead after half the records
			for i := 0; ; i++ {
				_, _, err := r.Next()
				if err != nil {
					break
				}
				if i == len(events)/2 {
					half = r.BytesRead()
				}
			}
			end := r.BytesRead()
			if end < st.Size()*9/10 || end > st.Size() {
				t.Errorf("BytesRead at the end = %d, file size %d", end, st.Size())
			}
			if half <= 0 || half >= end {
				t.Errorf("BytesRead half way = %d, at the end %d", half, end)
			}
		})
	}
}

func TestArchiveSkip(t *testing.T) {
	events := generate(t, 150_000, 4)
	dir := t.TempDir()
	for _, name := range []string{"e.ndjson", "e.ndjson.gz", "e.parquet", "e.arrow", "e.arrows"} {
		t.Run(name, func(t *testing.T) {
			path := writeFile(t, dir, name, events)
			all := readFile(t, path)
			total := int64(len(all))
			for _, n := range []int64{0, 1, 1000, batchRows - 1, batchRows, batchRows + 7, 2*batchRows + 1, total - 1} {
				r, err := Open(path)
				if err != nil {
					t.Fatal(err)
				}
				if err := r.Skip(n); err != nil {
					t.Fatalf("Skip(%d): %v", n, err)
				}
				v, row, err := r.Next()
				if err != nil || row != n+1 || !bytes.Equal(v, all[n].value) {
					t.Fatalf("Skip(%d) then Next = row %d, %v; want row %d", n, row, err, n+1)
				}
				if n == total-1 && name == "e.parquet" {
					// Whole row groups were skipped unread.
					if st, _ := os.Stat(path); r.BytesRead() > st.Size()/2 {
						t.Errorf("Skip(%d) read %d of %d bytes", n, r.BytesRead(), st.Size())
					}
				}
				// A second Skip from the middle of a batch.
				if err := r.Skip(batchRows / 2); err == nil {
					if v, row, err := r.Next(); err == nil && (row != n+2+batchRows/2 || !bytes.Equal(v, all[row-1].value)) {
						t.Fatalf("Skip(%d), Next, Skip(%d), Next = row %d", n, batchRows/2, row)
					}
				}
				r.Close()
			}
			r, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if err := r.Skip(total + 1); err != io.EOF {
				t.Errorf("Skip past the end of %d rows = %v, want io.EOF", total, err)
			}
		})
	}
}
