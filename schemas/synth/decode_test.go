package synth

import (
	"bytes"
	"strings"
	"testing"

	"github.com/cohortline/cohortline/schemas"
)

// The contract of the generator with the decoder: every good line decodes
// to exactly the event the generator meant, every bad line is rejected with
// the class it was built for.
func TestLinesMeetTheDecoder(t *testing.T) {
	cfg := testConfig(100000)
	cfg.Bad = 0.2 // about 3000 records of every class
	recs, st := generate(t, cfg)
	var d schemas.Decoder
	var got schemas.Event
	var perClass [NumBadClasses]int
	for i, r := range recs {
		err := d.Decode(r.Line, &got)
		if r.Kind == RecordBad {
			reason, ok := schemas.ReasonOf(err)
			class, _, _ := strings.Cut(string(reason), ":")
			if !ok || class != r.BadClass.String() {
				t.Fatalf("record %d built as %s: Decode = %v\n%.300s", i, r.BadClass, err, r.Line)
			}
			perClass[r.BadClass]++
			continue
		}
		if err != nil {
			t.Fatalf("record %d (%v): Decode = %v\n%s", i, r.Kind, err, r.Line)
		}
		if !sameEvent(&got, &r.ev) {
			t.Fatalf("record %d: decoded %+v, generated %+v", i, got, r.ev)
		}
	}
	for c, n := range perClass {
		if n == 0 || int64(n) != st.BadByClass[c] {
			t.Errorf("class %s: %d records, stats say %d", BadClass(c), n, st.BadByClass[c])
		}
	}
}

func sameEvent(a, b *schemas.Event) bool {
	return bytes.Equal(a.ID, b.ID) && bytes.Equal(a.User, b.User) && a.TS == b.TS && a.N == b.N &&
		a.Category == b.Category && a.Kind == b.Kind && a.Peer == b.Peer && a.Media == b.Media &&
		a.Age == b.Age && a.Platform == b.Platform && a.Country == b.Country && a.Lang == b.Lang
}

// The mix weights the classes.
func TestBadMixWeights(t *testing.T) {
	cfg := testConfig(50000)
	cfg.Bad = 0.5
	cfg.BadMix = BadMix{MalformedJSON: 3, PIISuspected: 1}
	_, st := generate(t, cfg)
	for c, n := range st.BadByClass {
		switch BadClass(c) {
		case BadMalformedJSON:
			if !within(float64(n)/float64(st.Bad), 0.75, 0.05) {
				t.Errorf("malformed_json is %d of %d bad records, want 75%%", n, st.Bad)
			}
		case BadPIISuspected:
		default:
			if n != 0 {
				t.Errorf("class %s has weight 0 but %d records", BadClass(c), n)
			}
		}
	}
}
