package clickhouse

import (
	"testing"

	"github.com/cohortline/cohortline/cohorts"
)

func TestMostSpecific(t *testing.T) {
	s := cohorts.DefaultSpec()
	finest, err := cohorts.ParseKey(s, "country=BR|lang=pt|age=25-34|platform=android")
	if err != nil {
		t.Fatal(err)
	}
	var chain []cohorts.Key
	for _, k := range s.Ancestors(finest) {
		chain = append(chain, k)
	}
	row := func(level int) EnrichmentRow {
		return EnrichmentRow{CohortID: chain[level].ID(), CohortKey: chain[level].String(), Users: uint64(100 * (level + 1))}
	}
	impostor := row(0)
	impostor.CohortKey = "platform=android|age=25-34|lang=pt|country=BR" // another spec's key under the same id
	for _, tc := range []struct {
		name  string
		rows  []EnrichmentRow
		level int
		ok    bool
	}{
		{"finest", []EnrichmentRow{row(3), row(0), row(1)}, 0, true},
		{"generalized", []EnrichmentRow{row(4), row(2)}, 2, true},
		{"top only", []EnrichmentRow{row(4)}, 4, true},
		{"key mismatch skipped", []EnrichmentRow{impostor, row(1)}, 1, true},
		{"none", nil, 0, false},
	} {
		level, r, ok := mostSpecific(chain, tc.rows)
		if ok != tc.ok || level != tc.level || (ok && r.CohortKey != chain[level].String()) {
			t.Errorf("%s: level %d %v (%s), want %d %v", tc.name, level, ok, r.CohortKey, tc.level, tc.ok)
		}
	}
}
