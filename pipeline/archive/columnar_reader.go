package archive

import (
	"fmt"
	"io"

	"github.com/apache/arrow/go/v15/arrow"
)

// batchSource yields the record batches of a columnar file in order.
type batchSource interface {
	// schema is the schema of the batches next returns.
	schema() *arrow.Schema
	// next returns the next batch, owned by the source and valid until the
	// next call, or io.EOF.
	next() (arrow.Record, error)
	// skipUnread skips up to n rows without reading them, where the format
	// allows (Parquet row groups, before reading starts), and returns how
	// many it skipped.
	skipUnread(n int64) int64
	close() error
}

// columnarReader turns the rows of a batchSource into v1 JSON: the Reader
// of Parquet and Arrow IPC files.
type columnarReader struct {
	path  string
	file  *countingFile
	src   batchSource
	enc   *rowEncoder
	batch int   // rows in the current batch
	i     int   // next row of the current batch
	n     int64 // rows consumed
	buf   []byte
	err   error // sticky: io.EOF or the FileError that ended reading
}

func newColumnarReader(path string, file *countingFile, src batchSource) (*columnarReader, error) {
	enc, err := newRowEncoder(src.schema())
	if err != nil {
		src.close()
		return nil, &FileError{Path: path, Reason: "unsupported column", Err: err}
	}
	return &columnarReader{path: path, file: file, src: src, enc: enc}, nil
}

func (r *columnarReader) Next() (value []byte, row int64, err error) {
	if r.err != nil {
		return nil, r.n, r.err
	}
	defer r.recoverCorrupt(&err)
	for r.i >= r.batch {
		if err := r.nextBatch(); err != nil {
			return nil, r.n, err
		}
	}
	r.buf = r.enc.appendRow(r.buf[:0], r.i)
	r.i++
	r.n++
	return r.buf, r.n, nil
}

func (r *columnarReader) Skip(n int64) (err error) {
	if r.err != nil {
		return r.err
	}
	defer r.recoverCorrupt(&err)
	if r.i >= r.batch {
		skipped := r.src.skipUnread(n)
		r.n += skipped
		n -= skipped
	}
	for n > 0 {
		if r.i >= r.batch {
			if err := r.nextBatch(); err != nil {
				return err
			}
		}
		k := min(n, int64(r.batch-r.i))
		r.i += int(k)
		r.n += k
		n -= k
	}
	return nil
}

// nextBatch loads the next batch that has rows; its error is sticky.
func (r *columnarReader) nextBatch() error {
	for {
		rec, err := r.src.next()
		switch {
		case err == io.EOF:
			r.err = io.EOF
			return r.err
		case err != nil:
			r.err = &FileError{Path: r.path, Row: r.n + 1, Reason: "reading record batch", Err: err}
			return r.err
		}
		// An empty batch may lack even the buffers that binding reads.
		if rec.NumRows() > 0 {
			r.enc.bindBatch(rec)
			r.batch, r.i = int(rec.NumRows()), 0
			return nil
		}
	}
}

// recoverCorrupt turns a panic into a FileError at the row being read. The
// Arrow and Parquet libraries trust the lengths and offsets they read from
// a file, and some corrupt files make them index out of range.
func (r *columnarReader) recoverCorrupt(err *error) {
	if p := recover(); p != nil {
		r.err = &FileError{Path: r.path, Row: r.n + 1, Reason: "corrupt file", Err: fmt.Errorf("%v", p)}
		*err = r.err
	}
}

func (r *columnarReader) BytesRead() int64 { return r.file.n }

func (r *columnarReader) Close() error {
	err := r.src.close()
	if cerr := r.file.Close(); err == nil {
		err = cerr
	}
	return err
}
