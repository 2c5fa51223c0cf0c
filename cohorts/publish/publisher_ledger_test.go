package publish

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cohortline/cohortline/cohorts/privacy"
)

// publisherWith returns a production publisher of the default spec whose
// noise is keyed by secret.
func publisherWith(t *testing.T, store Store, secret string, budget Budget) *Publisher {
	t.Helper()
	spec := specV1()
	n, err := privacy.NewNoiser([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	b, err := privacy.Split(spec, spec.Privacy.Epsilon)
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPublisher(Config{Spec: spec, Noise: Noise{Noiser: n, Budget: &b}, Budget: budget, CodeVersion: "test",
		Mode: ModeProduction, Now: func() time.Time { return time.Unix(1_800_000_000, 0) }}, store)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

const (
	secretA = "secret A of at least thirty-two bytes, for tests"
	secretB = "secret B of at least thirty-two bytes, for tests"
)

// TestRepublishUnderAnotherKeyIsCharged (issue 12, finding 6): the noise
// depends on the secret, so a republish of identical partials is free
// only under the same key id; under a second secret it is charged, and
// refused when that goes over the budget, writing nothing.
func TestRepublishUnderAnotherKeyIsCharged(t *testing.T) {
	spec := specV1()
	eps := spec.Privacy.Epsilon
	store := newMemStore()
	store.partials[testWindow.Start] = randomPartials(t, spec, 150, 3)
	ctx := t.Context()
	a := publisherWith(t, store, secretA, Budget{PerWindow: 2 * eps})
	first, err := a.PublishRange(ctx, day, day.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	rows := fmt.Sprint(store.rows[testWindow.Start])
	if id := first[0].Ledger.KeyID; id != privacy.KeyID([]byte(secretA)) {
		t.Errorf("ledger key id %q, want privacy.KeyID of the secret", id)
	}

	same, err := a.PublishRange(ctx, day, day.Add(24*time.Hour))
	if err != nil || same[0].Ledger.EpsilonSpent != 0 {
		t.Fatalf("republish under the same secret: %v, spent %+v; want free", err, same)
	}
	if got := fmt.Sprint(store.rows[testWindow.Start]); got != rows {
		t.Error("a free republish under the same secret changed the rows")
	}

	b := publisherWith(t, store, secretB, Budget{PerWindow: 2 * eps})
	other, err := b.PublishRange(ctx, day, day.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if e := other[0].Ledger; e.EpsilonSpent != eps || !e.Republish || e.KeyID == first[0].Ledger.KeyID {
		t.Errorf("republish under a second secret: spent %g, republish %t, key id %s; want %g charged under another key id", e.EpsilonSpent, e.Republish, e.KeyID, eps)
	}
	if got := fmt.Sprint(store.rows[testWindow.Start]); got == rows {
		t.Error("the second secret drew the same noise: the test proves nothing")
	}

	// The window has spent 2ε now: a third key is refused.
	c := publisherWith(t, store, "secret C of at least thirty-two bytes, for tests", Budget{PerWindow: 2 * eps})
	n := len(store.writes)
	if _, err := c.PublishRange(ctx, day, day.Add(24*time.Hour)); !errors.Is(err, ErrBudget) {
		t.Fatalf("republish under a third secret over budget: %v, want ErrBudget", err)
	}
	if w := dataWrites(store.writes[n:]); len(w) > 0 {
		t.Errorf("a refused release wrote %v", w)
	}
}

// TestRepublishAgainstRowsWithoutKeyID: a booked release from before the
// ledger recorded key ids never makes a republish free, even of the same
// digest.
func TestRepublishAgainstRowsWithoutKeyID(t *testing.T) {
	spec := specV1()
	store := newMemStore()
	in := randomPartials(t, spec, 150, 3)
	store.partials[testWindow.Start] = in
	p := publisherWith(t, store, secretA, Budget{})
	old := p.entry(testWindow, Digest(in))
	old.KeyID, old.EpsilonSpent, old.Epsilon = "", spec.Privacy.Epsilon, spec.Privacy.Epsilon
	old.ReleasedAt = old.ReleasedAt.Add(-time.Hour)
	store.ledger = append(store.ledger, old)
	res, err := p.PublishRange(t.Context(), day, day.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if e := res[0].Ledger; e.EpsilonSpent != spec.Privacy.Epsilon || !e.Republish {
		t.Errorf("republish of a digest booked without key id: spent %g, republish %t; want charged", e.EpsilonSpent, e.Republish)
	}
}

// TestLedgerEntryRecordsKeyModeDelta: the entry carries the key id, the
// mode, the lease token and the δ the release has, which is below the
// configured one; released times of one window strictly increase.
func TestLedgerEntryRecordsKeyModeDelta(t *testing.T) {
	spec := specV1()
	store := newMemStore()
	store.partials[testWindow.Start] = randomPartials(t, spec, 150, 3)
	p := publisherWith(t, store, secretA, Budget{})
	for range 2 {
		if _, err := p.PublishRange(t.Context(), day, day.Add(24*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	b, _ := privacy.Split(spec, spec.Privacy.Epsilon)
	want := privacy.ReleaseDelta(&b, spec.K)
	e := store.ledger[0]
	if e.KeyID != privacy.KeyID([]byte(secretA)) || e.Mode != ModeProduction || e.LeaseToken != 1 ||
		e.ReleaseDelta != want || !(e.ReleaseDelta > 0 && e.ReleaseDelta <= e.Delta) || e.Delta != spec.Privacy.Delta {
		t.Errorf("ledger entry %+v; want key id, mode production, lease token 1, release delta %g ≤ delta %g", e, want, spec.Privacy.Delta)
	}
	if store.ledger[1].LeaseToken != 2 || !store.ledger[1].ReleasedAt.After(e.ReleasedAt) {
		t.Errorf("second release: lease token %d, released %s after %s; want token 2, strictly later",
			store.ledger[1].LeaseToken, store.ledger[1].ReleasedAt, e.ReleasedAt)
	}
	if r := store.released[1]; r.ReleasedAt != store.ledger[1].ReleasedAt || r.Mode != ModeProduction {
		t.Errorf("published release %+v does not match its ledger entry", r)
	}
}

// TestModeBinding (issue 12, finding 6): a published database holding
// releases of one mode refuses a publish of another, in both directions,
// and nothing is written; releases of unknown mode bind nothing; the
// no-noise test mode is booked like any release, at ε = 0.
func TestModeBinding(t *testing.T) {
	spec := specV1()
	exact := func(t *testing.T, store Store) *Publisher {
		p, err := NewPublisher(Config{Spec: spec, Mode: ModeTest, KeyID: privacy.KeyID([]byte(secretA)), CodeVersion: "test"}, store)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		name   string
		held   []string
		pub    func(*testing.T, Store) *Publisher
		refuse string // the modes named, "" to publish
	}{
		{"test into production", []string{ModeProduction}, exact, "holds releases of mode production, and this publish runs in mode test"},
		{"production into test", []string{ModeTest, ""}, func(t *testing.T, s Store) *Publisher { return publisherWith(t, s, secretA, Budget{}) }, "holds releases of mode test, and this publish runs in mode production"},
		{"development into production", []string{ModeProduction, ModeProduction}, func(t *testing.T, s Store) *Publisher {
			p := publisherWith(t, s, secretA, Budget{})
			p.cfg.Mode = ModeDevelopment
			return p
		}, "mode production, and this publish runs in mode development"},
		{"test into unknown", []string{""}, exact, ""},
		{"test into test", []string{ModeTest}, exact, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := newMemStore()
			store.partials[testWindow.Start] = randomPartials(t, spec, 150, 3)
			store.modes = tc.held
			res, err := tc.pub(t, store).PublishRange(t.Context(), day, day.Add(24*time.Hour))
			if tc.refuse != "" {
				if !errors.Is(err, ErrMode) || !strings.Contains(err.Error(), tc.refuse) || !strings.Contains(err.Error(), "pub_db") {
					t.Errorf("err %v; want ErrMode naming pub_db and %q", err, tc.refuse)
				}
				if w := dataWrites(store.writes); len(w) > 0 || len(store.ledger) > 0 {
					t.Errorf("a refused publish wrote %v", w)
				}
				if !strings.HasSuffix(strings.Join(store.writes, ";"), "lease-release 1") {
					t.Errorf("the lease was not given back: %v", store.writes)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			e := res[0].Ledger
			if len(store.ledger) != 1 || e.Noise || e.EpsilonSpent != 0 || e.Mode != ModeTest || store.released[0].Mode != ModeTest {
				t.Errorf("no-noise test publish: ledger %+v; want one booked entry of mode test, no noise, ε 0", store.ledger)
			}
		})
	}
}

// TestPublishStopsWhenTheLeaseIsLost: each write is preceded by a check
// of the lease, and the first failing check stops the publish before
// that write; the lease is given back either way.
func TestPublishStopsWhenTheLeaseIsLost(t *testing.T) {
	spec := specV1()
	for failAt, wantWrites := range map[int][]string{
		1: nil,
		2: {"ledger"},
		3: {"ledger", "release"},
	} {
		store := newMemStore()
		store.partials[testWindow.Start] = randomPartials(t, spec, 150, 3)
		store.lease = &memLease{failAt: failAt}
		p := publisherWith(t, store, secretA, Budget{})
		_, err := p.PublishRange(t.Context(), day, day.Add(24*time.Hour))
		if err == nil || !strings.Contains(err.Error(), "taken over") || !strings.Contains(err.Error(), "stopped before writing") {
			t.Errorf("lease lost at check %d: err %v, want the check's error", failAt, err)
		}
		var got []string
		for _, w := range dataWrites(store.writes) {
			op, _, _ := strings.Cut(w, " ")
			got = append(got, op)
		}
		if fmt.Sprint(got) != fmt.Sprint(wantWrites) {
			t.Errorf("lease lost at check %d: wrote %v, want %v", failAt, got, wantWrites)
		}
		if last := store.writes[len(store.writes)-1]; last != "lease-release 1" {
			t.Errorf("lease lost at check %d: last step %q, want the lease released", failAt, last)
		}
	}
}
