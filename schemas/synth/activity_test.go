package synth

import (
	"testing"

	"github.com/cohortline/cohortline/schemas"
)

func TestEventContent(t *testing.T) {
	recs, _ := generate(t, testConfig(200000))
	var kinds [schemas.NumKinds]int
	var business, sensitive, good int
	for i, r := range recs {
		if r.Kind == RecordBad {
			continue
		}
		e := &r.ev
		good++
		kinds[e.Kind]++
		if e.NeedsCategory() != (e.Category != schemas.CategoryNone) {
			t.Fatalf("record %d: kind %v peer %v category %q", i, e.Kind, e.Peer, e.Category)
		}
		if e.Peer == schemas.PeerBusiness {
			business++
			if e.Category.Sensitive() {
				sensitive++
			}
		}
		switch {
		case e.Kind == schemas.KindCall && (e.N < 1 || e.N > schemas.MaxUnits):
			t.Fatalf("record %d: call of %d seconds", i, e.N)
		case e.Kind != schemas.KindCall && e.N != 1:
			t.Fatalf("record %d: %v with n=%d, want 1", i, e.Kind, e.N)
		}
	}
	if kinds[schemas.KindMessageSent] < good/2 {
		t.Errorf("messages are %d of %d events, want the majority", kinds[schemas.KindMessageSent], good)
	}
	for k, n := range kinds {
		if n == 0 {
			t.Errorf("no %v event", schemas.Kind(k))
		}
	}
	if share := float64(sensitive) / float64(business); share == 0 || share > 0.1 {
		t.Errorf("sensitive categories are %.3f of business events, want a small non-zero share", share)
	}
}
