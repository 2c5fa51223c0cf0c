package archive

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/ipc"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet"
	"github.com/apache/arrow/go/v15/parquet/compress"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"

	"github.com/cohortline/cohortline/schemas"
)

// recordWriter is what the Parquet and the two Arrow IPC writers share.
type recordWriter interface {
	Write(arrow.Record) error
	Close() error
}

// columnarWriter collects events into a record batch of EventSchema and
// writes it every batchRows events.
type columnarWriter struct {
	path string
	f    *os.File
	bw   *bufio.Writer
	out  recordWriter
	b    *array.RecordBuilder
	// The builders of b's columns, typed once.
	v, n     *array.Int32Builder
	ts       *array.TimestampBuilder
	id, user *array.BinaryBuilder
	words    [8]*array.BinaryBuilder // kind, peer, category, media, country, lang, age, platform
	rows     int
	err      error // sticky: the file is unusable after a failed write
}

func newColumnarWriter(path string, f *os.File, format Format) (*columnarWriter, error) {
	w := &columnarWriter{path: path, f: f, bw: bufio.NewWriterSize(f, 1<<20)}
	var err error
	switch {
	case format == Parquet:
		props := parquet.NewWriterProperties(
			parquet.WithCompression(compress.Codecs.Zstd),
			parquet.WithMaxRowGroupLength(batchRows))
		// bw, not f: pqarrow closes a writer that is an io.Closer, and the
		// file is ours to close.
		w.out, err = pqarrow.NewFileWriter(EventSchema, w.bw, props, pqarrow.DefaultWriterProps())
	case isArrowStreamName(path):
		w.out = ipc.NewWriter(w.bw, ipc.WithSchema(EventSchema), ipc.WithZstd())
	default:
		w.out, err = ipc.NewFileWriter(&tellWriter{w: w.bw}, ipc.WithSchema(EventSchema), ipc.WithZstd())
	}
	if err != nil {
		return nil, fmt.Errorf("creating %s: %w", path, err)
	}
	w.b = array.NewRecordBuilder(memory.DefaultAllocator, EventSchema)
	w.v = w.b.Field(0).(*array.Int32Builder)
	w.id = w.b.Field(1).(*array.StringBuilder).BinaryBuilder
	w.ts = w.b.Field(2).(*array.TimestampBuilder)
	w.user = w.b.Field(3).(*array.StringBuilder).BinaryBuilder
	w.n = w.b.Field(8).(*array.Int32Builder)
	for i, col := range []int{4, 5, 6, 7, 9, 10, 11, 12} {
		w.words[i] = w.b.Field(col).(*array.StringBuilder).BinaryBuilder
	}
	w.b.Reserve(batchRows)
	return w, nil
}

func (w *columnarWriter) Write(e *schemas.Event) error {
	if w.err != nil {
		return w.err
	}
	w.v.Append(schemas.Version)
	w.id.Append(e.ID)
	w.ts.Append(arrow.Timestamp(e.TS))
	w.user.Append(e.User)
	w.words[0].AppendString(e.Kind.String())
	w.words[1].AppendString(e.Peer.String())
	w.words[2].AppendString(e.Category.String())
	w.words[3].AppendString(e.Media.String())
	w.n.Append(e.N)
	w.words[4].Append(e.Country[:])
	w.words[5].Append(e.Lang[:])
	w.words[6].AppendString(e.Age.String())
	w.words[7].AppendString(e.Platform.String())
	if w.rows++; w.rows == batchRows {
		return w.flush()
	}
	return nil
}

// flush writes the rows built so far as one record batch (Parquet: one
// row group).
func (w *columnarWriter) flush() error {
	if w.rows == 0 {
		return nil
	}
	rec := w.b.NewRecord()
	defer rec.Release()
	w.rows = 0
	if err := w.out.Write(rec); err != nil {
		w.err = fmt.Errorf("writing %s: %w", w.path, err)
		return w.err
	}
	return nil
}

func (w *columnarWriter) Close() error {
	defer w.b.Release()
	err := w.err
	if err == nil {
		err = w.flush()
	}
	// Close even after an error: the file must be closed either way.
	if cerr := w.out.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("completing %s: %w", w.path, cerr)
	}
	if ferr := w.bw.Flush(); err == nil && ferr != nil {
		err = fmt.Errorf("writing %s: %w", w.path, ferr)
	}
	if cerr := w.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("closing %s: %w", w.path, cerr)
	}
	return err
}

// isArrowStreamName reports whether path ends in ".arrows", the Arrow
// convention for the stream format.
func isArrowStreamName(path string) bool {
	return strings.HasSuffix(strings.ToLower(path), ".arrows")
}

// tellWriter lets the Arrow file writer, which asks for its position with
// Seek(0, io.SeekCurrent) but never moves, write through a bufio.Writer.
type tellWriter struct {
	w   io.Writer
	pos int64
}

func (t *tellWriter) Write(p []byte) (int, error) {
	n, err := t.w.Write(p)
	t.pos += int64(n)
	return n, err
}

func (t *tellWriter) Seek(offset int64, whence int) (int64, error) {
	if offset != 0 || whence != io.SeekCurrent {
		return 0, errors.New("BUG: the Arrow file writer moved in its output")
	}
	return t.pos, nil
}
