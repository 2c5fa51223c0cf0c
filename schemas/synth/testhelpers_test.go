package synth

import (
	"bytes"
	"testing"

	"github.com/cohortline/cohortline/schemas"
)

// rec is a Record copied out of the generator's buffers.
type rec struct {
	Record
	ev schemas.Event
}

// generate runs cfg to the end and returns copies of every record.
func generate(t testing.TB, cfg Config) ([]rec, Stats) {
	t.Helper()
	g, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	var out []rec
	for {
		r, ok := g.Next()
		if !ok {
			break
		}
		c := rec{Record: *r}
		c.Line = bytes.Clone(r.Line)
		c.Key = bytes.Clone(r.Key)
		if r.Event != nil {
			c.ev = *r.Event
			c.ev.ID = bytes.Clone(r.Event.ID)
			c.ev.User = bytes.Clone(r.Event.User)
		}
		c.Event = nil
		out = append(out, c)
	}
	return out, g.Stats()
}

// testConfig is DefaultConfig with n records.
func testConfig(n int64) Config {
	cfg := DefaultConfig()
	cfg.Events = n
	return cfg
}

// within reports whether got is within rel (relative) of want.
func within(got, want, rel float64) bool {
	return got >= want*(1-rel) && got <= want*(1+rel)
}
