package archive

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/cohortline/cohortline/schemas"
)

// TestWriteAll: the events next hands out come back in order; a nil
// event is counted as skipped and leaves no row; a cancelled context
// stops it with the context's error and still leaves a complete file.
func TestWriteAll(t *testing.T) {
	events := generate(t, 5_000, 7)
	dir := t.TempDir()
	for _, name := range []string{"e.parquet", "e.arrow"} {
		t.Run(name, func(t *testing.T) {
			i := 0
			next := func() (*schemas.Event, bool) {
				if i >= len(events) {
					return nil, false
				}
				i++
				if i%10 == 0 {
					return nil, true // a bad record
				}
				return &events[i-1], true
			}
			path := filepath.Join(dir, name)
			skipped, err := WriteAll(t.Context(), path, next)
			if err != nil || skipped != int64(len(events)/10) {
				t.Fatalf("WriteAll = %d skipped, %v; want %d skipped", skipped, err, len(events)/10)
			}
			recs := readFile(t, path)
			var want []schemas.Event
			for j := range events {
				if (j+1)%10 != 0 {
					want = append(want, events[j])
				}
			}
			if len(recs) != len(want) {
				t.Fatalf("read %d records, want %d", len(recs), len(want))
			}
			for j, r := range recs {
				if got, _ := decode(r.value); !eventsEqual(&got, &want[j]) {
					t.Fatalf("record %d = %+v, want %+v", j, got, want[j])
				}
			}

			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			cut := filepath.Join(dir, "cut-"+name)
			if _, err := WriteAll(ctx, cut, next); !errors.Is(err, context.Canceled) {
				t.Errorf("WriteAll with a cancelled context = %v, want context.Canceled", err)
			}
			if recs := readFile(t, cut); len(recs) != 0 {
				t.Errorf("the cancelled file holds %d records, want a complete empty file", len(recs))
			}
		})
	}
}
