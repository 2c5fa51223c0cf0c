package archive

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"

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

// CreateLines creates (or truncates) an NDJSON file for lines written as
// they come (a generator's raw records, bad ones included), gzipped at the
// fastest level for a ".gz" name. Close flushes and closes it.
func CreateLines(path string) (io.WriteCloser, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("creating archive: %w", err)
	}
	return newLineFile(path, f, strings.HasSuffix(path, ".gz")), nil
}

// lineFile is a buffered, optionally gzipped NDJSON file.
type lineFile struct {
	path string
	f    *os.File
	zw   *gzip.Writer // nil when not gzipped
	bw   *bufio.Writer
}

func newLineFile(path string, f *os.File, gz bool) *lineFile {
	l := &lineFile{path: path, f: f}
	var dst io.Writer = f
	if gz {
		// BestSpeed, as gen uses: compression, not JSON, is the
		// bottleneck, and events still shrink about 4×.
		l.zw, _ = gzip.NewWriterLevel(f, gzip.BestSpeed) // a valid level: no error
		dst = l.zw
	}
	l.bw = bufio.NewWriterSize(dst, 1<<20)
	return l
}

func (l *lineFile) Write(p []byte) (int, error) { return l.bw.Write(p) }

func (l *lineFile) Close() error {
	err := l.bw.Flush()
	if l.zw != nil {
		if cerr := l.zw.Close(); err == nil {
			err = cerr
		}
	}
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("closing %s: %w", l.path, err)
	}
	return nil
}

// ndjsonWriter writes one event per line.
type ndjsonWriter struct {
	*lineFile
	line []byte
}

func newNDJSONWriter(path string, f *os.File, gz bool) *ndjsonWriter {
	return &ndjsonWriter{lineFile: newLineFile(path, f, gz)}
}

func (w *ndjsonWriter) Write(e *schemas.Event) error {
	w.line = append(schemas.AppendJSON(w.line[:0], e), '\n')
	if _, err := w.bw.Write(w.line); err != nil {
		return fmt.Errorf("writing %s: %w", w.path, err)
	}
	return nil
}

// WriteAll creates path (Create) and writes to it every event next hands
// out, in order, until next reports the end; ctx is checked every 4,096
// events. next hands out a nil event for a record that has no columns to
// go in (a generator's bad record: Parquet and Arrow hold only valid
// events): it is counted in skipped, not written. The file is closed (and
// completed) also after an error.
func WriteAll(ctx context.Context, path string, next func() (e *schemas.Event, ok bool)) (skipped int64, err error) {
	w, err := Create(path)
	if err != nil {
		return 0, err
	}
	defer func() {
		if cerr := w.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("closing %s: %w", path, cerr)
		}
	}()
	for n := 0; ; n++ {
		if n%4096 == 0 && ctx.Err() != nil {
			return skipped, ctx.Err()
		}
		e, ok := next()
		if !ok {
			return skipped, nil
		}
		if e == nil {
			skipped++
			continue
		}
		if err := w.Write(e); err != nil {
			return skipped, fmt.Errorf("writing %s: %w", path, err)
		}
	}
}
