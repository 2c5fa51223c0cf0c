package synth

import (
	"bytes"
	"context"
	"testing"

	"github.com/cohortline/cohortline/schemas"
)

func ndjson(t *testing.T, cfg Config) []byte {
	t.Helper()
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := g.WriteNDJSON(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestSameSeedSameBytes(t *testing.T) {
	cfg := testConfig(50000)
	cfg.Bad = 0.01 // exercise every bad class
	a, b := ndjson(t, cfg), ndjson(t, cfg)
	if !bytes.Equal(a, b) {
		t.Fatal("two runs of the same Config differ")
	}
	if n := bytes.Count(a, []byte("\n")); n != 50000 {
		t.Errorf("got %d lines, want 50000", n)
	}
	cfg.Seed++
	if c := ndjson(t, cfg); bytes.Equal(a, c) {
		t.Fatal("seeds 1 and 2 give the same bytes")
	}
}

func TestWriteNDJSONStopsOnCancel(t *testing.T) {
	g, err := New(testConfig(100000))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := g.WriteNDJSON(ctx, &bytes.Buffer{}); err != context.Canceled {
		t.Fatalf("WriteNDJSON after cancel = %v, want context.Canceled", err)
	}
}

func TestFractions(t *testing.T) {
	const n = 200000
	cfg := testConfig(n)
	cfg.Users = 20000
	recs, st := generate(t, cfg)
	if st.Records != n || int64(len(recs)) != n {
		t.Fatalf("got %d records (stats %d), want %d", len(recs), st.Records, n)
	}
	var counts [3]int64
	var late, ooo, business, good int64
	for _, r := range recs {
		counts[r.Kind]++
		if r.Kind == RecordBad {
			continue
		}
		good++
		if r.ev.Peer == schemas.PeerBusiness {
			business++
		}
		if r.Kind == RecordEvent && r.Timing == Late {
			late++
		}
		if r.Kind == RecordEvent && r.Timing == OutOfOrder {
			ooo++
		}
	}
	if counts[RecordBad] != st.Bad || counts[RecordDuplicate] != st.Duplicates || late != st.Late || ooo != st.OutOfOrder {
		t.Errorf("Stats %+v disagree with the records: %v bad/dup, %d late, %d ooo", st, counts, late, ooo)
	}
	for _, c := range []struct {
		name      string
		got, want float64
		rel       float64
	}{
		{"bad", float64(st.Bad) / n, cfg.Bad, 0.25},
		{"duplicates", float64(st.Duplicates) / n, cfg.Duplicates, 0.15},
		{"late", float64(st.Late) / n, cfg.Late, 0.1},
		{"out_of_order", float64(st.OutOfOrder) / n, cfg.OutOfOrder, 0.05},
		{"business_share", float64(business) / float64(good), cfg.BusinessShare, 0.05},
	} {
		if !within(c.got, c.want, c.rel) {
			t.Errorf("%s: share %.5f, want %.5f ± %.0f%%", c.name, c.got, c.want, 100*c.rel)
		}
	}
}

// Minors are a share of users, so count distinct users.
func TestMinorShareOfUsers(t *testing.T) {
	cfg := testConfig(200000)
	recs, _ := generate(t, cfg)
	minor := map[string]bool{}
	for _, r := range recs {
		if r.Kind != RecordBad {
			minor[string(r.Key)] = r.ev.Age == schemas.AgeMinor
		}
	}
	var m int
	for _, v := range minor {
		if v {
			m++
		}
	}
	if got := float64(m) / float64(len(minor)); !within(got, cfg.MinorShare, 0.1) {
		t.Errorf("minors are %.4f of %d active users, want %.4f ± 10%%", got, len(minor), cfg.MinorShare)
	}
	pop := newPopulation(&cfg)
	m = 0
	for _, u := range pop.users {
		if u.age == schemas.AgeMinor {
			m++
		}
	}
	if got := float64(m) / float64(len(pop.users)); !within(got, cfg.MinorShare, 0.05) {
		t.Errorf("minors are %.4f of the population, want %.4f ± 5%%", got, cfg.MinorShare)
	}
}

func TestIDsUniqueExceptDuplicates(t *testing.T) {
	recs, _ := generate(t, testConfig(200000))
	first := map[string][]byte{}
	for i, r := range recs {
		if r.Kind == RecordBad {
			continue
		}
		prev, seen := first[string(r.ev.ID)]
		switch {
		case r.Kind == RecordEvent && seen:
			t.Fatalf("record %d: id %s used twice", i, r.ev.ID)
		case r.Kind == RecordDuplicate && !seen:
			t.Fatalf("record %d: duplicate of id %s that was never sent", i, r.ev.ID)
		case r.Kind == RecordDuplicate && !bytes.Equal(prev, r.Line):
			t.Fatalf("record %d: duplicate differs from the original:\n%s\n%s", i, prev, r.Line)
		case r.Kind == RecordEvent:
			first[string(r.ev.ID)] = r.Line
		}
		if len(r.ev.ID) != idLen || r.ev.ID[0] != 'e' {
			t.Fatalf("record %d: id %q, want e + 16 hex digits", i, r.ev.ID)
		}
	}
}

// Timing is judged against the latest event time emitted before, which
// is what a watermark sees.
func TestTiming(t *testing.T) {
	cfg := testConfig(200000)
	recs, _ := generate(t, cfg)
	lateMS, jitterMS := cfg.LateDelay.Milliseconds(), cfg.Jitter.Milliseconds()
	var high int64 = -1 << 62
	startMS, endMS := cfg.Start.UnixMilli(), cfg.Start.Add(cfg.Span).UnixMilli()
	for i, r := range recs {
		if r.Kind != RecordEvent {
			continue
		}
		ts := r.ev.TS
		switch r.Timing {
		case InOrder:
			if ts < high || ts < startMS || ts >= endMS {
				t.Fatalf("record %d in order at %d: latest before %d, span [%d, %d)", i, ts, high, startMS, endMS)
			}
			high = ts
		case Late:
			if behind := high - ts; behind < lateMS || behind >= 2*lateMS {
				t.Fatalf("record %d late by %dms, want [%d, %d)", i, behind, lateMS, 2*lateMS)
			}
		case OutOfOrder:
			if behind := high - ts; behind < 1 || behind > jitterMS {
				t.Fatalf("record %d out of order by %dms, want [1, %d]", i, behind, jitterMS)
			}
		}
	}
}

// The diurnal curve peaks at 15:00 UTC and bottoms out at 03:00.
func TestDiurnalCurve(t *testing.T) {
	recs, _ := generate(t, testConfig(100000))
	var perHour [24]int
	for _, r := range recs {
		if r.Kind == RecordEvent && r.Timing == InOrder {
			perHour[r.ev.TS/3600000%24]++
		}
	}
	if perHour[15] < 2*perHour[3] {
		t.Errorf("events at 15h %d, at 3h %d: want a diurnal peak at least twice the trough", perHour[15], perHour[3])
	}
}

func TestNextDoesNotAllocate(t *testing.T) {
	cfg := testConfig(1 << 30)
	cfg.Bad = 0.05 // bad records too
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for range 20000 { // let the buffers grow
		g.Next()
	}
	if a := testing.AllocsPerRun(20000, func() { g.Next() }); a != 0 {
		t.Errorf("Next allocates %v times per record, want 0", a)
	}
}
