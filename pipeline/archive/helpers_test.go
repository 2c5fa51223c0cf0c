package archive

import (
	"bytes"
	"errors"
	"io"
	"path/filepath"
	"testing"

	"github.com/cohortline/cohortline/schemas"
	"github.com/cohortline/cohortline/schemas/synth"
)

// generate returns copies of the events (first sends and duplicates, not
// bad records) of n synthetic records, in the generator's order.
func generate(t testing.TB, n int64, seed uint64) []schemas.Event {
	t.Helper()
	cfg := synth.DefaultConfig()
	cfg.Events, cfg.Users, cfg.Seed = n, 5000, seed
	cfg.Bad, cfg.Duplicates = 0.01, 0.01
	g, err := synth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var events []schemas.Event
	for {
		rec, ok := g.Next()
		if !ok {
			return events
		}
		if rec.Event != nil {
			events = append(events, cloneEvent(rec.Event))
		}
	}
}

func cloneEvent(e *schemas.Event) schemas.Event {
	c := *e
	c.ID, c.User = bytes.Clone(e.ID), bytes.Clone(e.User)
	return c
}

func eventsEqual(a, b *schemas.Event) bool {
	return bytes.Equal(a.ID, b.ID) && bytes.Equal(a.User, b.User) && a.TS == b.TS && a.N == b.N &&
		a.Category == b.Category && a.Kind == b.Kind && a.Peer == b.Peer && a.Media == b.Media &&
		a.Age == b.Age && a.Platform == b.Platform && a.Country == b.Country && a.Lang == b.Lang
}

// writeFile writes events to dir/name with Create.
func writeFile(t testing.TB, dir, name string, events []schemas.Event) string {
	t.Helper()
	path := filepath.Join(dir, name)
	w, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range events {
		if err := w.Write(&events[i]); err != nil {
			t.Fatalf("Write event %d: %v", i, err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	return path
}

// record is one value a Reader returned, copied.
type record struct {
	value []byte
	row   int64
}

// readAll reads r to its end and returns the records and the error that
// ended it (nil for io.EOF).
func readAll(t testing.TB, r Reader) ([]record, error) {
	t.Helper()
	var out []record
	for {
		v, row, err := r.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("Next error %v (%T) is not a *FileError", err, err)
			}
			return out, err
		}
		out = append(out, record{bytes.Clone(v), row})
	}
}

// readFile opens path and reads it whole; it fails the test on any error.
func readFile(t testing.TB, path string) []record {
	t.Helper()
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	recs, err := readAll(t, r)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// decode runs value through the streaming decoder and returns the event
// (copied) or the rejection reason.
func decode(value []byte) (schemas.Event, schemas.Reason) {
	var d schemas.Decoder
	var e schemas.Event
	if err := d.Decode(value, &e); err != nil {
		reason, _ := schemas.ReasonOf(err)
		return e, reason
	}
	return cloneEvent(&e), ""
}
