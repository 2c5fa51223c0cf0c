package cohorts

import (
	"testing"

	"github.com/cohortline/cohortline/schemas"
)

var (
	sinkKey Key
	sinkID  uint64
)

// benchEvents vary the attributes so that branch prediction does not see
// one event over and over.
func benchEvents() []schemas.Event {
	countries := []schemas.Country{{'B', 'R'}, {'U', 'S'}, {'I', 'N'}, {'D', 'E'}, {'N', 'G'}}
	langs := []schemas.Lang{{'p', 't'}, {'e', 'n'}, {'h', 'i'}}
	var evs []schemas.Event
	for i := range 64 {
		evs = append(evs, schemas.Event{
			Country:  countries[i%len(countries)],
			Lang:     langs[i%len(langs)],
			Age:      schemas.AgeBand(1 + i%int(schemas.NumAgeBands-1)),
			Platform: schemas.Platform(i % int(schemas.NumPlatforms)),
		})
	}
	return evs
}

func BenchmarkKeyOf(b *testing.B) {
	s, evs := DefaultSpec(), benchEvents()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		sinkKey = KeyOf(s, &evs[i%len(evs)])
	}
}

func BenchmarkKeyOfID(b *testing.B) {
	s, evs := DefaultSpec(), benchEvents()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		sinkID = KeyOf(s, &evs[i%len(evs)]).ID()
	}
}

func BenchmarkAppendString(b *testing.B) {
	k := KeyOf(DefaultSpec(), exampleEvent())
	buf := make([]byte, 0, maxKeyLen)
	b.ReportAllocs()
	for b.Loop() {
		buf = k.AppendString(buf[:0])
	}
}

func BenchmarkParseKey(b *testing.B) {
	s := DefaultSpec()
	b.ReportAllocs()
	for b.Loop() {
		sinkKey, _ = ParseKey(s, "country=BR|lang=pt|age=25-34|platform=android")
	}
}

// BenchmarkAncestorsID is the publisher's walk up the chain of one cohort.
func BenchmarkAncestorsID(b *testing.B) {
	s := DefaultSpec()
	k := KeyOf(s, exampleEvent())
	b.ReportAllocs()
	for b.Loop() {
		for _, a := range s.Ancestors(k) {
			sinkID ^= a.ID()
		}
	}
}

// BenchmarkMapByKey is the per-event cohort lookup of the aggregator.
func BenchmarkMapByKey(b *testing.B) {
	s, evs := DefaultSpec(), benchEvents()
	m := map[Key]int{}
	for i := range evs {
		m[KeyOf(s, &evs[i])]++
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		m[KeyOf(s, &evs[i%len(evs)])]++
	}
}
