package archive

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/ipc"
)

// arrowFileMagic starts (and ends) an Arrow IPC file; a stream starts with
// a message instead. The extension does not say which: ".arrow" is used
// for both.
var arrowFileMagic = []byte("ARROW1")

func newArrowReader(path string, f *countingFile) (r Reader, err error) {
	defer func() {
		if p := recover(); p != nil {
			r, err = nil, &FileError{Path: path, Reason: "corrupt Arrow IPC header", Err: fmt.Errorf("%v", p)}
		}
	}()
	magic := make([]byte, len(arrowFileMagic))
	// A peek, not counted in BytesRead: the readers below read it again.
	if _, err := f.f.ReadAt(magic, 0); err != nil && err != io.EOF {
		return nil, &FileError{Path: path, Reason: "reading", Err: err}
	}
	isFile := bytes.Equal(magic, arrowFileMagic)
	st, err := f.f.Stat()
	if err != nil {
		return nil, &FileError{Path: path, Reason: "reading", Err: err}
	}
	if err := checkArrowSchema(f.f, st.Size(), isFile); err != nil {
		return nil, &FileError{Path: path, Reason: "corrupt Arrow IPC schema", Err: err}
	}
	var src batchSource
	if isFile {
		fr, err := ipc.NewFileReader(f, ipc.WithAllocator(allocator))
		if err != nil {
			return nil, &FileError{Path: path, Reason: "not a readable Arrow IPC file (truncated?)", Err: err}
		}
		src = &ipcFile{r: fr}
	} else {
		sr, err := ipc.NewReaderFromMessageReader(newBoundedMessages(f, st.Size()), ipc.WithAllocator(allocator))
		if err != nil {
			return nil, &FileError{Path: path, Reason: "not an Arrow IPC file or stream", Err: err}
		}
		src = &ipcStream{r: sr, file: f}
	}
	return newColumnarReader(path, f, src)
}

// ipcFile reads the batches of the IPC file format through its footer.
type ipcFile struct {
	r *ipc.FileReader
	i int // next batch
}

func (s *ipcFile) schema() *arrow.Schema { return s.r.Schema() }

func (s *ipcFile) next() (arrow.Record, error) {
	if s.i >= s.r.NumRecords() {
		return nil, io.EOF
	}
	s.i++
	return s.r.Record(s.i - 1) // released by the next call
}

// skipUnread is 0: a batch's row count is in its own header, not in the
// footer, so skipping means reading (not converting) the batch.
func (s *ipcFile) skipUnread(int64) int64 { return 0 }

func (s *ipcFile) close() error { return s.r.Close() }

// ipcStream reads the IPC stream format.
type ipcStream struct {
	r    *ipc.Reader
	file *countingFile
}

func (s *ipcStream) schema() *arrow.Schema { return s.r.Schema() }

func (s *ipcStream) next() (arrow.Record, error) {
	if s.r.Next() {
		return s.r.Record(), nil // released by the next call
	}
	if err := s.r.Err(); err != nil {
		return nil, err
	}
	// The reader also ends quietly when the file ends between two
	// messages. A stream that ends with its end-of-stream marker never
	// reads to the end of the file; one cut short does. The marker is
	// optional in the format, but every Arrow writer writes it, and
	// backfilling a truncated file would replace published windows with
	// partial ones.
	if s.file.eof {
		return nil, errNoEOS
	}
	return nil, io.EOF
}

var errNoEOS = errors.New("the stream ends without its end-of-stream marker: truncated (or written by a writer that omits the marker)")

func (s *ipcStream) skipUnread(int64) int64 { return 0 }

func (s *ipcStream) close() error {
	s.r.Release()
	return nil
}
