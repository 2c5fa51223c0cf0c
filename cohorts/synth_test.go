package cohorts

import (
	"bytes"
	"testing"
	"time"

	"github.com/cohortline/cohortline/schemas"
	"github.com/cohortline/cohortline/schemas/synth"
)

// decodedEvent is one generated line as the pipeline sees it after the
// decoder: the event plus its token and id copied out of the decoder's
// buffers (e.User and e.ID are nil).
type decodedEvent struct {
	user, id string
	e        schemas.Event
}

// testData is a generated data set with every fault the aggregation must
// handle: late, out-of-order and duplicate records, minors, sensitive
// categories, users drifting between platforms (so the first event's
// cohort matters), bad records, and skewed activity (so that bounds bite
// and the >100 bucket fills).
func testData(t testing.TB) []decodedEvent {
	t.Helper()
	cfg := synth.DefaultConfig()
	cfg.Users = 3000
	cfg.Events = 60000
	cfg.Span = 4 * time.Hour
	cfg.DriftShare = 0.3
	cfg.SensitiveShare = 0.2
	cfg.Duplicates = 0.05
	cfg.Late = 0.02
	cfg.Bad = 0.01
	return decodeAll(t, generateLines(t, cfg))
}

// generateLines returns copies of every line cfg generates, bad ones
// included.
func generateLines(t testing.TB, cfg synth.Config) [][]byte {
	t.Helper()
	g, err := synth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var lines [][]byte
	for {
		r, ok := g.Next()
		if !ok {
			return lines
		}
		lines = append(lines, bytes.Clone(r.Line))
	}
}

// decodeAll decodes lines like the pipeline, dropping rejected ones.
func decodeAll(t testing.TB, lines [][]byte) []decodedEvent {
	t.Helper()
	var d schemas.Decoder
	var out []decodedEvent
	rejected := 0
	for _, line := range lines {
		var e schemas.Event
		if err := d.Decode(line, &e); err != nil {
			rejected++
			continue
		}
		de := decodedEvent{user: string(e.User), id: string(e.ID), e: e}
		de.e.User, de.e.ID = nil, nil
		out = append(out, de)
	}
	if rejected == 0 {
		t.Fatal("no rejected lines: the data set lacks bad records")
	}
	return out
}

// runStates feeds events in order to one WindowState per window of spec,
// as a partition worker does (with every window kept open: closing is the
// pipeline's business), and returns the states and how many of each
// Outcome Add gave.
func runStates(t testing.TB, spec Spec, evs []decodedEvent) (map[Window]*WindowState, [NumOutcomes]int) {
	t.Helper()
	r := mustRekeyer(t, testSecret)
	states := map[Window]*WindowState{}
	var outcomes [NumOutcomes]int
	for i := range evs {
		ev := &evs[i]
		w := spec.WindowOf(ev.e.TS)
		s := states[w]
		if s == nil {
			s = NewWindowState(&spec, w)
			states[w] = s
		}
		outcomes[s.Add(r.User([]byte(ev.user)), r.EventID([]byte(ev.id)), &ev.e)]++
	}
	return states, outcomes
}
