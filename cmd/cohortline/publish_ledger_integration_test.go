package main

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/cohortline/cohortline/cmd/internal/configfile"
	"github.com/cohortline/cohortline/cohorts"
	"github.com/cohortline/cohortline/cohorts/privacy"
)

// byToken groups ledger rows by the lease they were booked under, in
// token order.
func byToken(rs []ledgerRow) [][]ledgerRow {
	groups := map[uint64][]ledgerRow{}
	for _, r := range rs {
		groups[r.token] = append(groups[r.token], r)
	}
	var out [][]ledgerRow
	for _, tok := range slices.Sorted(maps.Keys(groups)) {
		out = append(out, groups[tok])
	}
	return out
}

// TestRepublishUnderASecondSecret (issue 12, finding 6) on the real
// server: a republish under the same secret of identical partials is free
// and gives identical rows; under a second secret it is charged (the noise
// is another), and over the budget it is refused and writes nothing. The
// ledger rows carry the key id, which is not the secret and differs
// between secrets, the mode and the computed delta.
func TestRepublishUnderASecondSecret(t *testing.T) {
	s := newLedgerSet(t)
	pub := s.db + "_published"
	eps := cohorts.DefaultSpec().Privacy.Epsilon
	config := s.config(t, "prod.yaml", ledgerConfig{mode: configfile.ModeProduction, publish: "{auto: false, budget: {per_window: 8}}"})

	if code, out := s.publish(t, config, secretA); code != exitOK {
		t.Fatalf("publish under secret A: exit %d\n%s", code, out)
	}
	first := s.current(t, pub)
	if len(first) == 0 {
		t.Fatal("nothing published")
	}
	if code, out := s.publish(t, config, secretA); code != exitOK {
		t.Fatalf("republish under secret A: exit %d\n%s", code, out)
	}
	if again := s.current(t, pub); !slices.Equal(again, first) {
		t.Errorf("a republish under the same secret changed the rows:\n%s", diffLines(again, first))
	}
	if code, out := s.publish(t, config, secretB); code != exitOK {
		t.Fatalf("republish under secret B: exit %d\n%s", code, out)
	}
	second := s.current(t, pub)
	if slices.Equal(second, first) {
		t.Error("the second secret's rows equal the first's: its noise is not another")
	}
	for _, line := range second {
		if !strings.Contains(line, "spec1-") {
			t.Fatalf("unexpected row %q", line)
		}
	}
	ledger := s.ledger(t)
	rounds := byToken(ledger)
	if len(rounds) != 3 {
		t.Fatalf("%d publish rounds in the ledger, want 3: %+v", len(rounds), ledger)
	}
	keyA, keyB := privacy.KeyID([]byte(secretA)), privacy.KeyID([]byte(secretB))
	for i, want := range []struct {
		key   string
		spent float64
	}{{keyA, eps}, {keyA, 0}, {keyB, eps}} {
		if len(rounds[i]) != 4 {
			t.Errorf("round %d booked %d windows, want 4", i+1, len(rounds[i]))
		}
		for _, r := range rounds[i] {
			if r.keyID != want.key || r.spent != want.spent || r.mode != configfile.ModeProduction {
				t.Errorf("round %d, window %s: key id %s, spent %g, mode %q; want %s, %g, production", i+1, r.window, r.keyID, r.spent, r.mode, want.key, want.spent)
			}
		}
	}
	spec := cohorts.DefaultSpec()
	split, err := privacy.Split(spec, eps)
	if err != nil {
		t.Fatal(err)
	}
	r := ledger[0]
	if want := privacy.ReleaseDelta(&split, spec.K); r.relDelta != want || !(r.relDelta < r.delta) || r.token == 0 {
		t.Errorf("ledger row: release delta %g (delta %g), lease token %d; want the computed %g below the configured delta, a token", r.relDelta, r.delta, r.token, want)
	}
	if keyA == keyB || len(keyA) != 16 || strings.Contains(secretA, keyA) {
		t.Errorf("key ids %q and %q: want 16 hex digits, not part of the secret, one per secret", keyA, keyB)
	}

	// The windows have spent 2ε = publish.budget.per_window: a third
	// secret is refused, and nothing is written.
	code, out := s.publish(t, config, "ledger test secret C, thirty-two bytes or more")
	if code != exitFailure || !strings.Contains(out, "privacy budget exceeded") || !strings.Contains(out, "per_window 8") {
		t.Errorf("republish under a third secret: exit %d\n%s\nwant a refusal over publish.budget.per_window", code, out)
	}
	if n := len(s.ledger(t)); n != len(ledger) {
		t.Errorf("a refused republish added %d ledger rows", n-len(ledger))
	}
	if now := s.current(t, pub); !slices.Equal(now, second) {
		t.Errorf("a refused republish changed the rows:\n%s", diffLines(now, second))
	}
}

// TestModeBindingOnRealServer (issue 12, finding 6): a test-mode publish
// without noise into a published database of production releases is
// refused naming the database and both modes, and writes nothing; the
// same goes for a production publish into a database of test releases.
// The test-mode publish itself goes through the ledger, at ε = 0.
func TestModeBindingOnRealServer(t *testing.T) {
	s := newLedgerSet(t)
	prodDB, testDB := s.db+"_published", s.db+"_other"
	prod := s.config(t, "prod.yaml", ledgerConfig{mode: configfile.ModeProduction, published: prodDB})
	if code, out := s.publish(t, prod, secretA); code != exitOK {
		t.Fatalf("production publish: exit %d\n%s", code, out)
	}
	written := func(db string) [3]uint64 {
		return [3]uint64{s.count(t, s.db+".privacy_ledger"), s.count(t, db+".published_releases"), s.count(t, db+".cohort_enrichment")}
	}

	before := written(prodDB)
	exactIntoProd := s.config(t, "exact-prod.yaml", ledgerConfig{mode: configfile.ModeTest, published: prodDB, publish: "{auto: false, noise: false}"})
	code, out := s.publish(t, exactIntoProd, "")
	if code != exitFailure || !strings.Contains(out, "published database "+prodDB+" holds releases of mode production, and this publish runs in mode test") ||
		!strings.Contains(out, "nothing was written") || !strings.Contains(out, "published_database") {
		t.Errorf("test-mode publish into production: exit %d\n%s\nwant a refusal naming the database, the modes and what to do", code, out)
	}
	if after := written(prodDB); after != before {
		t.Errorf("the refused publish wrote: ledger, releases, rows %v, were %v", after, before)
	}

	exact := s.config(t, "exact.yaml", ledgerConfig{mode: configfile.ModeTest, published: testDB, publish: "{auto: false, noise: false}"})
	if code, out := s.publish(t, exact, ""); code != exitOK {
		t.Fatalf("test-mode publish into its own database: exit %d\n%s", code, out)
	}
	for _, r := range s.ledger(t)[4:] {
		if r.noise != 0 || r.spent != 0 || r.mode != configfile.ModeTest || r.keyID == "" {
			t.Errorf("test-mode ledger row %+v; want booked without noise, ε 0, mode test, a key id", r)
		}
	}
	if n := s.count(t, testDB+".published_releases WHERE mode != 'test'"); n != 0 || s.count(t, testDB+".published_releases") != 4 {
		t.Errorf("%s.published_releases: %d rows of another mode; want the 4 releases, of mode test", testDB, n)
	}

	before = written(testDB)
	prodIntoTest := s.config(t, "prod-test.yaml", ledgerConfig{mode: configfile.ModeProduction, published: testDB})
	code, out = s.publish(t, prodIntoTest, secretA)
	if code != exitFailure || !strings.Contains(out, "published database "+testDB+" holds releases of mode test, and this publish runs in mode production") {
		t.Errorf("production publish into a test database: exit %d\n%s\nwant a refusal", code, out)
	}
	if after := written(testDB); after != before {
		t.Errorf("the refused publish wrote: ledger, releases, rows %v, were %v", after, before)
	}
}
