package archive

import (
	"fmt"
	"path/filepath"
	"strings"
)

// Format of an archive file, chosen by its name.
type Format int

const (
	NDJSON   Format = iota // one JSON event per line
	Parquet                // Apache Parquet
	ArrowIPC               // Arrow IPC, file or stream format (told apart by the file's magic)
)

func (f Format) String() string {
	switch f {
	case NDJSON:
		return "ndjson"
	case Parquet:
		return "parquet"
	case ArrowIPC:
		return "arrow"
	}
	return "invalid"
}

// extensions maps every accepted name ending (lower case) to its format.
// NDJSON endings may be followed by ".gz".
var extensions = []struct {
	ext    string
	format Format
}{
	{".ndjson", NDJSON}, {".jsonl", NDJSON}, {".json", NDJSON},
	{".parquet", Parquet},
	{".arrow", ArrowIPC}, {".arrows", ArrowIPC}, {".ipc", ArrowIPC}, {".feather", ArrowIPC},
}

// Extensions lists the accepted file name endings, for help texts and
// error messages.
const Extensions = ".ndjson, .jsonl, .json (each optionally followed by .gz), .parquet, .arrow, .arrows, .ipc, .feather"

// FormatOf picks the format of path by its extension, case-insensitively,
// and reports whether the file is gzipped (NDJSON only).
func FormatOf(path string) (Format, bool, error) {
	name := strings.ToLower(filepath.Base(path))
	base, gz := strings.CutSuffix(name, ".gz")
	ext := filepath.Ext(base)
	for _, e := range extensions {
		if ext == e.ext && (!gz || e.format == NDJSON) {
			return e.format, gz, nil
		}
	}
	return 0, false, fmt.Errorf("%s: unknown archive file type: the name must end in %s", path, Extensions)
}
