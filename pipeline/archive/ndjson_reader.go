package archive

import (
	"bufio"
	"errors"
	"io"

	"github.com/klauspost/compress/gzip"

	"github.com/cohortline/cohortline/schemas"
)

// maxLine is the longest line Next returns whole: one byte more than the
// decoder accepts, so that it rejects a longer line as too_large, as it
// rejects such a message from Kafka. The rest of the line is skipped
// unread, so one huge line costs no memory. (The decoder's PII scan of a
// too-large message then sees only its first 64 KiB.)
const maxLine = schemas.MaxEventBytes + 1

// readBuffer is the NDJSON read buffer: lines shorter than this are
// returned from it without a copy. It must exceed maxLine+2.
const readBuffer = 256 << 10

// ndjsonReader reads one JSON document per line.
type ndjsonReader struct {
	path string
	file *countingFile
	zr   *gzip.Reader // nil when not gzipped
	br   *bufio.Reader
	line []byte // the start of a line that did not fit in br's buffer
	row  int64  // lines consumed
	err  error  // sticky: the FileError that ended reading
}

func newNDJSONReader(path string, f *countingFile, gz bool) (*ndjsonReader, error) {
	r := &ndjsonReader{path: path, file: f}
	var src io.Reader = f
	if gz {
		zr, err := gzip.NewReader(f)
		if err != nil {
			return nil, &FileError{Path: path, Reason: "not a gzip file", Err: err}
		}
		r.zr, src = zr, zr
	}
	r.br = bufio.NewReaderSize(src, readBuffer)
	return r, nil
}

func (r *ndjsonReader) Next() ([]byte, int64, error) {
	for r.err == nil {
		line, err := r.readLine()
		if err != nil {
			r.err = err
			break
		}
		if !blank(line) {
			return line, r.row, nil
		}
	}
	return nil, r.row, r.err
}

// readLine returns the next line without its "\n" (or "\r\n"), cut to
// maxLine bytes, and counts it.
func (r *ndjsonReader) readLine() ([]byte, error) {
	chunk, err := r.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		// Longer than the buffer: keep what the decoder needs to say
		// too_large (and room for "\r\n"), drop the rest unread.
		const keep = maxLine + 2
		r.line = append(r.line[:0], chunk[:min(len(chunk), keep)]...)
		for errors.Is(err, bufio.ErrBufferFull) {
			chunk, err = r.br.ReadSlice('\n')
			r.line = append(r.line, chunk[:min(len(chunk), keep-len(r.line))]...)
		}
		chunk = r.line
	}
	switch {
	case err == nil, err == io.EOF && len(chunk) > 0: // the last line may lack "\n"
		r.row++
		line := trimEOL(chunk)
		return line[:min(len(line), maxLine)], nil
	case err == io.EOF:
		return nil, io.EOF
	default:
		return nil, r.broken(err)
	}
}

// trimEOL removes the line's "\n" or "\r\n".
func trimEOL(line []byte) []byte {
	if n := len(line); n > 0 && line[n-1] == '\n' {
		line = line[:n-1]
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
	}
	return line
}

// blank reports whether line holds only JSON whitespace.
func blank(line []byte) bool {
	for _, c := range line {
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			return false
		}
	}
	return true
}

// broken is the FileError for a read that failed on the line after the
// last one counted (a truncated or corrupt gzip stream, a disk error).
func (r *ndjsonReader) broken(err error) error {
	reason := "reading"
	if r.zr != nil {
		reason = "decompressing"
	}
	return &FileError{Path: r.path, Row: r.row + 1, Reason: reason, Err: err}
}

func (r *ndjsonReader) Skip(n int64) error {
	for ; n > 0 && r.err == nil; n-- {
		if err := r.skipLine(); err != nil {
			if err != io.EOF {
				r.err = err
			}
			return err
		}
	}
	return r.err
}

// skipLine consumes one line without copying it anywhere.
func (r *ndjsonReader) skipLine() error {
	started := false
	for {
		chunk, err := r.br.ReadSlice('\n')
		started = started || len(chunk) > 0
		switch {
		case err == nil, err == io.EOF && started:
			r.row++
			return nil
		case errors.Is(err, bufio.ErrBufferFull):
		case err == io.EOF:
			return io.EOF
		default:
			return r.broken(err)
		}
	}
}

func (r *ndjsonReader) BytesRead() int64 { return r.file.n }

func (r *ndjsonReader) Close() error {
	if r.zr != nil {
		r.zr.Close()
	}
	return r.file.Close()
}
