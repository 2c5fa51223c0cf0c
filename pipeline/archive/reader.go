package archive

import (
	"fmt"
	"io"
	"os"
)

// Reader reads one archive file record by record, in file order. It is not
// safe for concurrent use.
type Reader interface {
	// Next returns the next record as the JSON of one v1 event, valid until
	// the next call, and its 1-based row number in the file (for NDJSON the
	// line number: blank lines are skipped but counted). It returns io.EOF
	// after the last record; any other error is a *FileError, and every
	// later call returns it again.
	Next() (value []byte, row int64, err error)
	// Skip skips the next n rows without converting them, to resume after
	// row n: after Open, Skip(n) then Next gives row n+1 (NDJSON: or the
	// first non-blank line after it). NDJSON skips lines without parsing
	// them, Parquet skips whole row groups without reading them, Arrow
	// skips whole record batches without converting them. It returns
	// io.EOF when the file has fewer than n rows left.
	Skip(n int64) error
	// BytesRead is how many bytes of the file, as stored on disk
	// (compressed), were read so far: for progress, against the file size.
	BytesRead() int64
	// Close releases the file and any buffers.
	Close() error
}

// Open opens path for reading in the format its name says (FormatOf).
// Problems with the file's content, such as a Parquet file that is not one
// or a column of an unsupported type, are *FileError with Row 0.
func Open(path string) (Reader, error) {
	format, gz, err := FormatOf(path)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening archive: %w", err)
	}
	cf := &countingFile{f: f}
	var r Reader
	switch format {
	case NDJSON:
		r, err = newNDJSONReader(path, cf, gz)
	case Parquet:
		r, err = newParquetReader(path, cf)
	case ArrowIPC:
		r, err = newArrowReader(path, cf)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return r, nil
}

// countingFile counts the bytes read from the file, however they are read:
// NDJSON and Arrow streams read it in order, Parquet and Arrow files at
// offsets.
type countingFile struct {
	f   *os.File
	n   int64
	eof bool // Read reached the end of the file
}

func (c *countingFile) Read(p []byte) (int, error) {
	n, err := c.f.Read(p)
	c.n += int64(n)
	c.eof = c.eof || err == io.EOF
	return n, err
}

func (c *countingFile) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.f.ReadAt(p, off)
	c.n += int64(n)
	return n, err
}

func (c *countingFile) Seek(offset int64, whence int) (int64, error) {
	return c.f.Seek(offset, whence)
}

func (c *countingFile) Close() error { return c.f.Close() }
