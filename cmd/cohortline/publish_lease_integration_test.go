package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cohortline/cohortline/cohorts"
	"github.com/cohortline/cohortline/cohorts/publish"
	"github.com/cohortline/cohortline/sinks/clickhouse"
)

// opLog is the order in which publishers wrote, shared by their stores.
type opLog struct {
	mu  sync.Mutex
	ops []string // "<publisher> <what> <window>"
}

func (l *opLog) add(op string) {
	l.mu.Lock()
	l.ops = append(l.ops, op)
	l.mu.Unlock()
}

// recordingStore is a publisher's real store that logs each write, and
// dawdles a little before it so that two publishers without a lease
// would be sure to interleave.
type recordingStore struct {
	clickhouse.PublishStore
	name string
	log  *opLog
}

func (s recordingStore) note(what string, w cohorts.Window) {
	s.log.add(s.name + " " + what + " " + w.String())
	time.Sleep(20 * time.Millisecond)
}

func (s recordingStore) AppendLedger(ctx context.Context, e publish.LedgerEntry) error {
	s.note("ledger", e.Window)
	return s.PublishStore.AppendLedger(ctx, e)
}

func (s recordingStore) AppendPublishedRelease(ctx context.Context, e publish.LedgerEntry) error {
	s.note("release", e.Window)
	return s.PublishStore.AppendPublishedRelease(ctx, e)
}

func (s recordingStore) WriteRows(ctx context.Context, lease publish.Lease, w cohorts.Window, rows []publish.Row, release string, at time.Time, replace bool) error {
	s.note(fmt.Sprintf("rows(replace=%t)", replace), w)
	return s.PublishStore.WriteRows(ctx, lease, w, rows, release, at, replace)
}

// TestConcurrentPublishersNeverInterleave (issue 12, finding 7): two
// publishers start at once on one database, with releases of different
// specs (k 50 and k 100: the second merges more cohorts upward, so one of
// them replaces each window's day with REPLACE PARTITION). The lease makes
// one wait for the other: their writes never interleave, each booked
// every window exactly once under its own lease token, and every window
// shows exactly the rows of whichever published it last, none lost to a
// swap that copied the day before the other's rows.
func TestConcurrentPublishersNeverInterleave(t *testing.T) {
	s := newLedgerSet(t)
	pub := s.db + "_published"
	log := &opLog{}
	publisher := func(name, spec string) *publish.Publisher {
		cfg, err := loadConfig(s.config(t, name+".yaml", ledgerConfig{cohorts: spec}), envOf(nil))
		if err != nil {
			t.Fatal(err)
		}
		client, err := clickhouse.Open(t.Context(), cfg.File.ClickHouse)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { client.Close() })
		pc, err := cfg.Publisher()
		if err != nil {
			t.Fatal(err)
		}
		p, err := publish.NewPublisher(pc, recordingStore{newStore(cfg, client, "publish-"+name), name, log})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	// B also generalizes in another order, so its merged rows have keys A
	// never publishes: whichever goes second replaces, whatever the noise.
	pubs := map[string]*publish.Publisher{"A": publisher("A", ""), "B": publisher("B", ", k: 100, generalize: [age, platform, lang, country]")}

	start := make(chan struct{})
	var wg sync.WaitGroup
	errs := map[string]error{}
	var mu sync.Mutex
	for name, p := range pubs {
		wg.Go(func() {
			<-start
			_, err := p.PublishRange(t.Context(), ledgerFrom, ledgerTo)
			mu.Lock()
			errs[name] = err
			mu.Unlock()
		})
	}
	close(start)
	wg.Wait()
	for name, err := range errs {
		if err != nil {
			t.Fatalf("publisher %s: %v", name, err)
		}
	}

	var runs []string // the publishers' names, once per run of consecutive writes
	for _, op := range log.ops {
		name, _, _ := strings.Cut(op, " ")
		if len(runs) == 0 || runs[len(runs)-1] != name {
			runs = append(runs, name)
		}
	}
	if len(runs) != 2 {
		t.Errorf("the publishers' writes interleave (%v):\n%s", runs, strings.Join(log.ops, "\n"))
	}
	if !strings.Contains(strings.Join(log.ops, "\n"), "rows(replace=true)") {
		t.Errorf("no window was replaced: the test would not catch a lost REPLACE race:\n%s", strings.Join(log.ops, "\n"))
	}

	rounds := byToken(s.ledger(t))
	if len(rounds) != 2 {
		t.Fatalf("%d lease tokens in the ledger, want one per publisher", len(rounds))
	}
	for i, round := range rounds {
		seen := map[time.Time]int{}
		for _, r := range round {
			seen[r.window]++
			if r.release != round[0].release {
				t.Errorf("lease token %d booked releases %s and %s", r.token, round[0].release, r.release)
			}
		}
		if len(round) != 4 || len(seen) != 4 {
			t.Errorf("run %d (lease token %d) booked %d rows over %d windows, want each of the 4 windows once", i+1, round[0].token, len(round), len(seen))
		}
	}
	last := map[string]ledgerRow{} // per window, the release of the second run
	for _, r := range rounds[1] {
		last[r.window.Format(time.RFC3339)] = r
	}
	shown := map[string]uint64{}
	for _, line := range s.current(t, pub) {
		f := strings.Fields(line)
		shown[f[0]]++
		if want := last[f[0]].release; f[len(f)-1] != want {
			t.Errorf("window %s shows a row of release %s, want only the last run's %s: %s", f[0], f[len(f)-1], want, line)
		}
	}
	for ws, r := range last {
		if shown[ws] != r.rows {
			t.Errorf("window %s shows %d rows, want the %d its last release published", ws, shown[ws], r.rows)
		}
	}
}

// TestPublishLeaseHeldOrExpired: a publish fails with the holder's name
// and expiry when another holds the lease for all of publish.lease_wait,
// waits for it when it is released in time, and takes over a lease that
// expired (its holder was killed) without waiting for anything.
func TestPublishLeaseHeldOrExpired(t *testing.T) {
	s := newLedgerSet(t)
	client, err := clickhouse.Open(t.Context(), clickhouse.Config{Addr: []string{s.addr}, Database: s.db, PublishedDatabase: s.db + "_published"})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	held, err := client.AcquireLease(t.Context(), clickhouse.LeaseConfig{Holder: "backfill@elsewhere:42:0badf00d", TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	impatient := s.config(t, "impatient.yaml", ledgerConfig{publish: "{auto: false, lease_wait: 1s}"})
	code, out := s.publish(t, impatient, "")
	if code != exitFailure || !strings.Contains(out, "held by another publisher") || !strings.Contains(out, "backfill@elsewhere:42:0badf00d (token 1") ||
		!strings.Contains(out, "expires 20") || !strings.Contains(out, "publish.lease_wait") {
		t.Errorf("publish while another holds the lease: exit %d\n%s\nwant a failure naming the holder, its expiry and publish.lease_wait", code, out)
	}
	if n := s.count(t, s.db+".privacy_ledger"); n != 0 {
		t.Errorf("the refused publish booked %d releases", n)
	}

	go func() {
		time.Sleep(1500 * time.Millisecond)
		held.Release(context.WithoutCancel(t.Context()))
	}()
	patient := s.config(t, "patient.yaml", ledgerConfig{publish: "{auto: false, lease_wait: 30s}"})
	if code, out := s.publish(t, patient, ""); code != exitOK {
		t.Fatalf("publish waiting for the lease: exit %d\n%s", code, out)
	}

	// A publisher killed while holding token 7: its lease ran out.
	killed := time.Now().Add(-10 * time.Minute).UTC().Truncate(time.Second)
	batch, err := s.conn.PrepareBatch(t.Context(), "INSERT INTO "+s.db+".publish_lease (token, holder, seq, acquired_at, expires_at, released)")
	if err != nil {
		t.Fatal(err)
	}
	if err := batch.Append(uint64(7), "run@gone:1:deadbeef", uint64(3), killed, killed.Add(2*time.Minute), uint8(0)); err != nil {
		t.Fatal(err)
	}
	if err := batch.Send(); err != nil {
		t.Fatal(err)
	}
	if code, out := s.publish(t, impatient, ""); code != exitOK {
		t.Fatalf("publish after a killed publisher's lease expired: exit %d\n%s", code, out)
	}
	rounds := byToken(s.ledger(t))
	if got := rounds[len(rounds)-1][0].token; got != 8 {
		t.Errorf("the release after the expired lease was booked under token %d, want 8", got)
	}
}
