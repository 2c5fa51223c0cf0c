package archive

import (
	"context"
	"fmt"
	"io"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/parquet"
	"github.com/apache/arrow/go/v15/parquet/file"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"
)

// batchRows is the most rows read (Parquet) or written (both columnar
// formats) per record batch: about 64k rows of v1 events is a few MiB.
const batchRows = 64 << 10

// parquetChunkBuffer bounds what is read of a column chunk at a time, so
// that a file written with huge row groups still streams.
const parquetChunkBuffer = 256 << 10

func newParquetReader(path string, f *countingFile) (r Reader, err error) {
	defer func() {
		if p := recover(); p != nil {
			r, err = nil, &FileError{Path: path, Reason: "corrupt Parquet footer", Err: fmt.Errorf("%v", p)}
		}
	}()
	props := parquet.NewReaderProperties(allocator)
	props.BufferedStreamEnabled = true
	props.BufferSize = parquetChunkBuffer
	// A buffer per column larger than the whole file holds nothing more:
	// for small files (and every fuzz input) it was most of the work.
	if st, err := f.f.Stat(); err == nil && st.Size() < parquetChunkBuffer {
		props.BufferSize = max(st.Size(), 4<<10)
	}
	pf, err := file.NewParquetReader(f, file.WithReadProps(props))
	if err != nil {
		return nil, &FileError{Path: path, Reason: "not a readable Parquet file", Err: err}
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: batchRows}, allocator)
	if err != nil {
		return nil, &FileError{Path: path, Reason: "Parquet schema not readable as Arrow", Err: err}
	}
	src := &parquetSource{pf: pf, fr: fr}
	// Read only the columns named like v1 fields: a wide export costs
	// nothing for its other columns.
	full, err := fr.Schema()
	if err != nil {
		return nil, &FileError{Path: path, Reason: "Parquet schema not readable as Arrow", Err: err}
	}
	enc, err := newRowEncoder(full)
	if err != nil {
		return nil, &FileError{Path: path, Reason: "unsupported column", Err: err}
	}
	var fields []arrow.Field
	for _, c := range enc.cols {
		src.fields = append(src.fields, c.index)
		fields = append(fields, full.Field(c.index))
	}
	src.out = arrow.NewSchema(fields, nil)
	return newColumnarReader(path, f, src)
}

// parquetSource reads the columns of the v1 fields a batch at a time, row
// group after row group. It drives pqarrow's column readers itself rather
// than pqarrow's record reader, which opens column readers on goroutines of
// its own, where a panic on a corrupt file could not be recovered.
type parquetSource struct {
	pf      *file.Reader
	fr      *pqarrow.FileReader
	fields  []int         // top-level fields of the file to read
	out     *arrow.Schema // of the batches: those fields, in that order
	firstRG int           // first row group to read: skipUnread moves it
	cols    []*pqarrow.ColumnReader
	started bool
	// unread is how many rows the footer says are left to read: each
	// batch asks for at most that many, since pqarrow reserves room for
	// the rows asked per column (a 20-row file took 15 MB of buffers
	// sized for batchRows, which made FuzzArchiveColumnar crawl).
	unread int64
	rec    arrow.Record
	nextRG int // with no columns to read: the next row group to count
}

func (s *parquetSource) schema() *arrow.Schema { return s.out }

func (s *parquetSource) skipUnread(n int64) int64 {
	if s.started {
		return 0
	}
	var skipped int64
	for s.firstRG < s.pf.NumRowGroups() {
		rows := s.pf.MetaData().RowGroup(s.firstRG).NumRows()
		if skipped+rows > n {
			break
		}
		skipped += rows
		s.firstRG++
	}
	return skipped
}

func (s *parquetSource) start() error {
	s.started = true
	s.nextRG = s.firstRG
	rowGroups := make([]int, 0, s.pf.NumRowGroups()-s.firstRG)
	for rg := s.firstRG; rg < s.pf.NumRowGroups(); rg++ {
		rowGroups = append(rowGroups, rg)
		s.unread += max(s.pf.MetaData().RowGroup(rg).NumRows(), 0)
	}
	for _, i := range s.fields {
		leaf := map[int]bool{s.fr.Manifest.Fields[i].ColIndex: true}
		// The context only carries pqarrow's reader state to a leaf
		// column reader: nothing here blocks or runs concurrently.
		c, err := s.fr.GetFieldReader(context.Background(), i, leaf, rowGroups)
		if err != nil {
			return err
		}
		s.cols = append(s.cols, c)
	}
	return nil
}

func (s *parquetSource) next() (arrow.Record, error) {
	if !s.started {
		if err := s.start(); err != nil {
			return nil, err
		}
	}
	s.release()
	if len(s.cols) == 0 {
		return s.emptyRows()
	}
	arrays := make([]arrow.Array, len(s.cols))
	defer func() {
		for _, a := range arrays {
			if a != nil {
				a.Release()
			}
		}
	}()
	// At least 1: a footer that undercounts (a corrupt file) must not end
	// the reading early, only make it slower.
	want := max(min(s.unread, batchRows), 1)
	for i, c := range s.cols {
		chunks, err := c.NextBatch(want)
		if err != nil {
			return nil, fmt.Errorf("column %q: %w", s.out.Field(i).Name, err)
		}
		arrays[i], err = single(chunks)
		chunks.Release()
		if err != nil {
			return nil, fmt.Errorf("column %q: %w", s.out.Field(i).Name, err)
		}
		if n := arrays[i].Len(); n != arrays[0].Len() {
			return nil, fmt.Errorf("column %q has %d rows where %q has %d", s.out.Field(i).Name, n, s.out.Field(0).Name, arrays[0].Len())
		}
	}
	if arrays[0].Len() == 0 {
		return nil, io.EOF
	}
	s.unread -= int64(arrays[0].Len())
	s.rec = array.NewRecord(s.out, arrays, int64(arrays[0].Len()))
	return s.rec, nil
}

// single joins the chunks of one batch of a column (a batch that crosses
// row groups comes in several).
func single(c *arrow.Chunked) (arrow.Array, error) {
	if len(c.Chunks()) == 1 {
		a := c.Chunk(0)
		a.Retain()
		return a, nil
	}
	if len(c.Chunks()) == 0 {
		return array.MakeArrayOfNull(allocator, c.DataType(), 0), nil
	}
	return array.Concatenate(c.Chunks(), allocator)
}

// emptyRows returns a batch without columns for each row group when the
// file has no column of a v1 field: every row is then "{}" and the decoder
// says which field is missing.
func (s *parquetSource) emptyRows() (arrow.Record, error) {
	if s.nextRG >= s.pf.NumRowGroups() {
		return nil, io.EOF
	}
	rows := s.pf.MetaData().RowGroup(s.nextRG).NumRows()
	s.nextRG++
	s.rec = array.NewRecord(s.out, nil, rows)
	return s.rec, nil
}

func (s *parquetSource) release() {
	if s.rec != nil {
		s.rec.Release()
		s.rec = nil
	}
}

func (s *parquetSource) close() error {
	s.release()
	for _, c := range s.cols {
		c.Release()
	}
	return nil // not pf.Close: it would close the file, which the Reader owns
}
