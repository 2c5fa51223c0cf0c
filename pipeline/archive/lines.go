package archive

import (
	"bufio"
	"bytes"
	"io"

	"github.com/cohortline/cohortline/schemas"
)

// EachLine calls fn for every non-blank line of r, numbered from 1. A line
// longer than the contract's limit is passed truncated to MaxEventBytes+1
// bytes, which the decoder rejects as too_large, so a huge line costs
// bounded memory. It is how `cohortline validate` reads, and unlike the
// NDJSON Reader it numbers every line, blank ones included, and trims
// all surrounding white space.
func EachLine(r io.Reader, fn func(lineNo int, line []byte)) error {
	br := bufio.NewReaderSize(r, 1<<20)
	var long []byte // a line that did not fit the reader's buffer
	lineNo := 0
	for {
		chunk, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			if len(long) <= schemas.MaxEventBytes {
				long = append(long, chunk...)
			}
			continue
		}
		if len(chunk) > 0 || long != nil {
			lineNo++
			line := chunk
			if long != nil {
				if len(long) <= schemas.MaxEventBytes {
					long = append(long, chunk...)
				}
				line, long = long, nil
			}
			if len(line) > schemas.MaxEventBytes+1 {
				line = line[:schemas.MaxEventBytes+1]
			}
			if trimmed := bytes.TrimSpace(line); len(trimmed) > 0 {
				fn(lineNo, trimmed)
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
