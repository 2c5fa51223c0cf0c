package archive

import "strconv"

// FileError says that an archive file is broken at a row: the records
// before that row were read and are good, nothing after it can be trusted.
// Row 0 means the file as a whole (not of its format, a column of a type
// the contract cannot take, an unreadable header or footer).
type FileError struct {
	Path   string
	Row    int64 // 1-based row (NDJSON: line) where the file broke; 0: the whole file
	Reason string
	Err    error // the underlying error, if any
}

// Error reads "events.parquet: row 1234: reason: underlying error".
func (e *FileError) Error() string {
	s := e.Path + ": "
	if e.Row > 0 {
		s += "row " + strconv.FormatInt(e.Row, 10) + ": "
	}
	s += e.Reason
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *FileError) Unwrap() error { return e.Err }
