package archive

import (
	"bufio"
	"fmt"
	"io"
	"os"

	"github.com/klauspost/compress/gzip"

	"github.com/cohortline/cohortline/schemas"
)

// Writer writes v1 events into one archive file, in the format its name
// says. It is not safe for concurrent use. Events are not validated: write
// what the decoder accepted or what a generator made.
type Writer interface {
	// Write adds e; it may keep it buffered until a batch is full.
	Write(e *schemas.Event) error
	// Close flushes what is buffered, completes the file (Parquet and
	// Arrow files are unreadable without it) and closes it.
	Close() error
}

// Create creates (or truncates) path and returns a Writer for the format
// its name says (FormatOf): NDJSON lines as schemas.AppendJSON writes them
// (gzip at its fastest level for ".gz"), Parquet with zstd, Arrow IPC file
// format with zstd (".arrows": the stream format, by the Arrow convention
// for that ending). Parquet and Arrow files use EventSchema, batchRows rows
// per row group or record batch.
func Create(path string) (Writer, error) {
	format, gz, err := FormatOf(path)
	if err != nil {
		return nil, err
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("creating archive: %w", err)
	}
	var w Writer
	switch format {
	case NDJSON:
		w = newNDJSONWriter(path, f, gz)
	default:
		w, err = newColumnarWriter(path, f, format)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return w, nil
}

// ndjsonWriter writes one event per line.
type ndjsonWriter struct {
	path string
	f    *os.File
	zw   *gzip.Writer // nil when not gzipped
	bw   *bufio.Writer
	line []byte
}

func newNDJSONWriter(path string, f *os.File, gz bool) *ndjsonWriter {
	w := &ndjsonWriter{path: path, f: f}
	var dst io.Writer = f
	if gz {
		// BestSpeed, as gen uses: compression, not JSON, is the
		// bottleneck, and events still shrink about 4×.
		w.zw, _ = gzip.NewWriterLevel(f, gzip.BestSpeed) // a valid level: no error
		dst = w.zw
	}
	w.bw = bufio.NewWriterSize(dst, 1<<20)
	return w
}

func (w *ndjsonWriter) Write(e *schemas.Event) error {
	w.line = append(schemas.AppendJSON(w.line[:0], e), '\n')
	if _, err := w.bw.Write(w.line); err != nil {
		return fmt.Errorf("writing %s: %w", w.path, err)
	}
	return nil
}

func (w *ndjsonWriter) Close() error {
	err := w.bw.Flush()
	if w.zw != nil {
		if cerr := w.zw.Close(); err == nil {
			err = cerr
		}
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("closing %s: %w", w.path, err)
	}
	return nil
}
