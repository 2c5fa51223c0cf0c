package publish

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cohortline/cohortline/cohorts"
)

// memStore is a Store in memory that records the order of writes.
type memStore struct {
	partials map[int64][]cohorts.Partial
	ledger   []LedgerEntry
	released []LedgerEntry   // AppendPublishedRelease's
	modes    []string        // of releases written before the test, besides released's
	rows     map[int64][]Row // what readers see per window
	// writes are "ledger <window>", "release <window>", "rows <window>
	// replace=<bool>", and the lease's "lease-acquire <token>",
	// "lease-check <token>" and "lease-release <token>", in order.
	writes   []string
	failRows bool
	// failRepair makes RepairLatest fail.
	failRepair bool
	noise      map[string][]SlotNoise // WriteNoise's, by release (not in writes: it is not data readers see alone)
	lease      *memLease              // the lease AcquireLease hands out next
	leases     int                    // leases acquired so far
	repairs    int                    // RepairLatest calls: one per session, at its start
}

func newMemStore() *memStore {
	return &memStore{partials: map[int64][]cohorts.Partial{}, rows: map[int64][]Row{}}
}

// memLease is a Lease that fails its checks from failAt on (0: never).
type memLease struct {
	store  *memStore
	token  uint64
	checks int
	failAt int
	held   bool
}

func (l *memLease) Check(context.Context) error {
	l.checks++
	l.store.writes = append(l.store.writes, fmt.Sprintf("lease-check %d", l.token))
	if !l.held || (l.failAt > 0 && l.checks >= l.failAt) {
		return errors.New("lease taken over by another publisher")
	}
	return nil
}

func (l *memLease) Token() uint64 { return l.token }

func (l *memLease) Release(context.Context) error {
	l.held = false
	l.store.writes = append(l.store.writes, fmt.Sprintf("lease-release %d", l.token))
	return nil
}

func (m *memStore) AcquireLease(context.Context) (Lease, error) {
	m.leases++
	l := m.lease
	if l == nil {
		l = &memLease{}
	}
	m.lease = nil
	l.store, l.token, l.held = m, uint64(m.leases), true
	m.writes = append(m.writes, fmt.Sprintf("lease-acquire %d", l.token))
	return l, nil
}

func (m *memStore) PublishedModes(context.Context) (string, []string, error) {
	modes := slices.Clone(m.modes)
	for _, e := range m.released {
		modes = append(modes, e.Mode)
	}
	return "pub_db", modes, nil
}

func (m *memStore) AppendPublishedRelease(_ context.Context, e LedgerEntry) error {
	m.released = append(m.released, e)
	m.writes = append(m.writes, "release "+e.Window.String())
	return nil
}

func (m *memStore) Partials(_ context.Context, _ cohorts.Spec, from, to time.Time) (map[int64][]cohorts.Partial, error) {
	out := map[int64][]cohorts.Partial{}
	for s, ps := range m.partials {
		if s >= from.UnixMilli() && s < to.UnixMilli() {
			out[s] = ps
		}
	}
	return out, nil
}

func (m *memStore) Ledger(_ context.Context, from, to time.Time) ([]LedgerEntry, error) {
	var out []LedgerEntry
	for _, e := range m.ledger {
		if e.Window.Start >= from.UnixMilli() && e.Window.Start < to.UnixMilli() {
			out = append(out, e)
		}
	}
	return out, nil
}

func (m *memStore) AppendLedger(_ context.Context, e LedgerEntry) error {
	m.ledger = append(m.ledger, e)
	m.writes = append(m.writes, "ledger "+e.Window.String())
	return nil
}

func (m *memStore) WriteNoise(_ context.Context, release string, featureSet int, slots []SlotNoise) error {
	if m.noise == nil {
		m.noise = map[string][]SlotNoise{}
	}
	m.noise[release] = slots
	return nil
}

func (m *memStore) PublishedCohorts(_ context.Context, w cohorts.Window) ([]uint64, error) {
	var ids []uint64
	for _, r := range m.rows[w.Start] {
		ids = append(ids, r.ID)
	}
	return ids, nil
}

func (m *memStore) RepairLatest(context.Context, Lease) error {
	m.repairs++
	if m.failRepair {
		return errors.New("clickhouse down")
	}
	return nil
}

func (m *memStore) WriteRows(_ context.Context, _ Lease, w cohorts.Window, rows []Row, _ string, _ time.Time, replace bool) error {
	if m.failRows {
		return errors.New("clickhouse down")
	}
	m.writes = append(m.writes, fmt.Sprintf("rows %s replace=%t", w, replace))
	if replace {
		m.rows[w.Start] = rows
		return nil
	}
	byID := map[uint64]int{}
	for i, r := range m.rows[w.Start] {
		byID[r.ID] = i
	}
	for _, r := range rows {
		if i, ok := byID[r.ID]; ok {
			m.rows[w.Start][i] = r
		} else {
			m.rows[w.Start] = append(m.rows[w.Start], r)
		}
	}
	return nil
}

// dataWrites are the writes of writes that readers or the ledger see,
// without the lease's.
func dataWrites(writes []string) []string {
	var out []string
	for _, w := range writes {
		if !strings.HasPrefix(w, "lease-") {
			out = append(out, w)
		}
	}
	return out
}

func testPublisher(t *testing.T, store Store, budget Budget) *Publisher {
	t.Helper()
	spec := specV1()
	p, err := NewPublisher(Config{Spec: spec, Noise: noiseFor(t, spec), Budget: budget, CodeVersion: "test", Mode: ModeProduction,
		Now: func() time.Time { return time.Unix(1_800_000_000, 0) }}, store)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

var day = time.UnixMilli(testWindow.Start).UTC().Truncate(24 * time.Hour)

// TestPublisherLedgerAndBudget: every release writes its ledger entry
// before its rows; a republish of identical partials spends nothing and
// gives identical rows; changed partials spend again; a release over the
// budget is refused and writes nothing.
func TestPublisherLedgerAndBudget(t *testing.T) {
	spec := specV1()
	store := newMemStore()
	in := randomPartials(t, spec, 150, 3)
	store.partials[testWindow.Start] = in
	p := testPublisher(t, store, Budget{PerWindow: 2 * spec.Privacy.Epsilon})
	ctx := t.Context()

	first, err := p.PublishRange(ctx, day, day.Add(24*time.Hour))
	if err != nil || len(first) != 1 {
		t.Fatalf("first publish: %v, %d results", err, len(first))
	}
	e := first[0].Ledger
	if e.Republish || e.EpsilonSpent != spec.Privacy.Epsilon || !e.Noise || e.Release != p.Release() ||
		e.RowsPublished != first[0].Stats.Rows || e.SpecHash != spec.Hash() || len(e.InputDigest) != 64 {
		t.Errorf("first ledger entry %+v", e)
	}
	w := testWindow.String()
	if want := []string{"lease-acquire 1", "lease-check 1", "ledger " + w, "lease-check 1", "release " + w, "lease-check 1", "rows " + w + " replace=false", "lease-release 1"}; strings.Join(store.writes, ";") != strings.Join(want, ";") {
		t.Errorf("writes %v, want %v (under the lease, checked before each write; ledger first)", store.writes, want)
	}
	if store.repairs != 1 {
		t.Errorf("RepairLatest ran %d times in one session, want once, at its start", store.repairs)
	}
	rows := append([]Row(nil), store.rows[testWindow.Start]...)

	again, err := p.PublishRange(ctx, day, day.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if e := again[0].Ledger; !e.Republish || e.EpsilonSpent != 0 {
		t.Errorf("identical republish: republish %t, spent %g; want true, 0", e.Republish, e.EpsilonSpent)
	}
	if got := store.rows[testWindow.Start]; fmt.Sprint(got) != fmt.Sprint(rows) {
		t.Error("an identical republish changed the published rows")
	}

	// A straggler changes the partials: the second spend fits the budget
	// (2ε), a third one does not.
	for round := 1; round <= 2; round++ {
		changed := append([]cohorts.Partial(nil), store.partials[testWindow.Start]...)
		changed[0].Users++
		store.partials[testWindow.Start] = changed
		writes := len(store.writes)
		res, err := p.PublishRange(ctx, day, day.Add(24*time.Hour))
		if round == 1 {
			if err != nil || res[0].Ledger.EpsilonSpent != spec.Privacy.Epsilon {
				t.Fatalf("changed republish: %v %+v", err, res)
			}
			continue
		}
		if !errors.Is(err, ErrBudget) || !strings.Contains(err.Error(), "per_window") {
			t.Fatalf("third spend: err %v, want ErrBudget naming per_window", err)
		}
		if w := dataWrites(store.writes[writes:]); len(w) > 0 {
			t.Errorf("a refused release wrote %v", w)
		}
	}
}

// TestPublisherReplacesShrunkWindows: when a republish no longer has a
// cohort that readers see (merged upward now), the window is replaced,
// not added to.
func TestPublisherReplacesShrunkWindows(t *testing.T) {
	spec := specV1()
	store := newMemStore()
	big := partial(t, spec, "country=BR|lang=pt|age=25-34|platform=android", 400)
	store.partials[testWindow.Start] = []cohorts.Partial{big}
	p := testPublisher(t, store, Budget{})
	if _, err := p.PublishRange(t.Context(), day, day.Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	// Now the cohort is tiny (e.g. a backfill after a fix): it merges up
	// or is suppressed, so its own row must go.
	store.partials[testWindow.Start] = []cohorts.Partial{partial(t, spec, "country=BR|lang=pt|age=25-34|platform=android", 3)}
	res, err := p.PublishRange(t.Context(), day, day.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if !res[0].Replace {
		t.Error("the cohort set shrank but the window was not replaced")
	}
	for _, r := range store.rows[testWindow.Start] {
		if r.ID == big.ID {
			t.Errorf("cohort %s still published after the republish", big.Key)
		}
	}
}

func TestNewPublisherChecksConfig(t *testing.T) {
	spec := specV1()
	noise := noiseFor(t, spec)
	lowDelta := spec
	lowDelta.Privacy.Delta = 1e-12
	for name, tt := range map[string]struct {
		cfg  Config
		want string
	}{
		"delta below the threshold's": {Config{Spec: lowDelta, Noise: noise, Mode: ModeProduction}, "privacy.delta"},
		"budget below one release":    {Config{Spec: spec, Noise: noise, Mode: ModeProduction, Budget: Budget{PerDay: 1}}, "publish.budget.per_day: 1 is less than one release's epsilon 4"},
		"no mode":                     {Config{Spec: spec, Noise: noise}, `mode "" is none of`},
		"another key id":              {Config{Spec: spec, Noise: noise, Mode: ModeProduction, KeyID: "0123456789abcdef"}, "is not the noise secret's"},
	} {
		if _, err := NewPublisher(tt.cfg, newMemStore()); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err %v, want one containing %q", name, err, tt.want)
		}
	}
}

func TestPublisherRowsFailAfterLedger(t *testing.T) {
	spec := specV1()
	store := newMemStore()
	store.partials[testWindow.Start] = randomPartials(t, spec, 50, 5)
	store.failRows = true
	p := testPublisher(t, store, Budget{})
	if _, err := p.PublishRange(t.Context(), day, day.Add(24*time.Hour)); err == nil {
		t.Fatal("no error when the rows could not be written")
	}
	if len(store.ledger) != 1 {
		t.Errorf("%d ledger entries after a failed write; the spend must stay recorded", len(store.ledger))
	}
}

// TestRepublishWithdrawsAnEmptiedWindow: a backfill that leaves a window
// without partials republishes it as an empty release, which withdraws
// its published cohorts (replace, no rows), booked in the ledger;
// PublishRange alone leaves such a window's rows, and windows that never
// had rows are not released at all.
func TestRepublishWithdrawsAnEmptiedWindow(t *testing.T) {
	spec := specV1()
	store := newMemStore()
	store.partials[testWindow.Start] = randomPartials(t, spec, 150, 3)
	p := testPublisher(t, store, Budget{PerWindow: 3 * spec.Privacy.Epsilon})
	ctx := t.Context()
	if _, err := p.PublishRange(ctx, day, day.Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if len(store.rows[testWindow.Start]) == 0 {
		t.Fatal("the first publish wrote no rows")
	}

	delete(store.partials, testWindow.Start) // the backfill found nothing in the window
	if res, err := p.PublishRange(ctx, day, day.Add(24*time.Hour)); err != nil || len(res) != 0 || len(store.rows[testWindow.Start]) == 0 {
		t.Fatalf("PublishRange without partials: %v, %d results, %d rows left; want nothing done", err, len(res), len(store.rows[testWindow.Start]))
	}
	ledger, writes := len(store.ledger), len(store.writes)
	res, err := p.RepublishRange(ctx, day, day.Add(24*time.Hour))
	if err != nil || len(res) != 1 || res[0].Window != testWindow {
		t.Fatalf("RepublishRange: %v, %+v; want one result, for %s", err, res, testWindow)
	}
	if got := store.rows[testWindow.Start]; len(got) != 0 {
		t.Errorf("%d rows still published for the emptied window", len(got))
	}
	if !slices.Contains(store.writes[writes:], "rows "+testWindow.String()+" replace=true") {
		t.Errorf("writes %v: want the window replaced", store.writes[writes:])
	}
	if len(store.ledger) != ledger+1 || store.ledger[ledger].RowsPublished != 0 || store.ledger[ledger].Window != testWindow {
		t.Errorf("ledger %+v: want one more entry, of 0 rows for %s", store.ledger[ledger:], testWindow)
	}
	// Nothing is left to withdraw: a second republish releases nothing.
	if res, err := p.RepublishRange(ctx, day, day.Add(24*time.Hour)); err != nil || len(res) != 0 {
		t.Errorf("second RepublishRange: %v, %d results; want none", err, len(res))
	}
}

// TestBeginStopsWhenTheRepairFails: a session whose store cannot repair
// its lookup table (a crash left the newest release out of it) publishes
// nothing and gives the lease back: publishing on would leave it behind.
func TestBeginStopsWhenTheRepairFails(t *testing.T) {
	spec := specV1()
	store := newMemStore()
	store.partials[testWindow.Start] = randomPartials(t, spec, 150, 3)
	store.failRepair = true
	p := testPublisher(t, store, Budget{})
	if _, err := p.PublishRange(t.Context(), day, day.Add(24*time.Hour)); err == nil || !strings.Contains(err.Error(), "repairing the lookup table") {
		t.Fatalf("PublishRange = %v, want the repair's error", err)
	}
	if want := "lease-acquire 1;lease-release 1"; strings.Join(store.writes, ";") != want {
		t.Errorf("writes %v, want %s: nothing written, the lease given back", store.writes, want)
	}
}
