package clickhouse

import (
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

// ledgerRow returns a release of the window starting at ws.
func ledgerRow(ws time.Time, release string, releasedAt time.Time) LedgerRow {
	return LedgerRow{
		WindowStart: ws, WindowEnd: ws.Add(time.Hour), Release: release,
		Epsilon: 4, Delta: 1e-6, ReleaseDelta: 4.5e-8, Bounds: "events=100,call_seconds=3600",
		SpecHash: "460508c6ea34", CodeVersion: "v1.2.3",
		InputDigest: strings.Repeat("ab", 32), KeyID: "0123456789abcdef",
		RowsPublished: 17, RowsSuppressed: 3, EpsilonSpent: 4, Noise: true,
		Mode: "production", LeaseToken: 7, ReleasedAt: releasedAt,
	}
}

// TestLedgerRoundTrip: every field comes back as written, new columns of
// 0008 and 0010 included; Ledger keeps windows in [from, to), in window and
// release order, and counts an exact repeat once.
func TestLedgerRoundTrip(t *testing.T) {
	c := migratedClient(t, testConfig(t))
	ctx := t.Context()
	w0, w1, w2 := window, window.Add(time.Hour), window.Add(2*time.Hour)
	first := ledgerRow(w1, "spec1-aaa-fs1", w2.Add(time.Minute))
	again := ledgerRow(w1, "spec1-aaa-fs1", w2.Add(time.Hour)) // identical partials: spends nothing
	again.Republish, again.EpsilonSpent = true, 0
	changed := ledgerRow(w1, "spec1-aaa-fs1", w2.Add(30*time.Minute)) // stragglers: spends again
	changed.Republish, changed.InputDigest, changed.RowsPublished = true, strings.Repeat("cd", 32), 18
	test := ledgerRow(w0, "spec2-bbb-fs1", w2) // the no-noise test mode
	test.Epsilon, test.Delta, test.ReleaseDelta, test.EpsilonSpent, test.Noise, test.RowsSuppressed, test.Mode = 0, 0, 0, 0, false, 0, "test"
	outside := ledgerRow(w2, "spec1-aaa-fs1", w2.Add(2*time.Hour))
	for _, r := range []LedgerRow{first, again, changed, test, outside, first} { // first twice: a retried insert
		if err := c.AppendLedger(ctx, r); err != nil {
			t.Fatal(err)
		}
	}

	got, err := c.Ledger(ctx, w0, w2)
	if err != nil {
		t.Fatal(err)
	}
	if want := []LedgerRow{test, first, changed, again}; !reflect.DeepEqual(got, want) {
		t.Errorf("Ledger [w0, w2) =\n%+v\nwant\n%+v", got, want)
	}
	got, err = c.Ledger(ctx, w1, w1.Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || !got[0].WindowStart.Equal(w1) || got[2].EpsilonSpent != 0 || !got[2].Republish {
		t.Errorf("Ledger [w1, w1+1s) = %+v, want the 3 releases of w1", got)
	}
	if got, err := c.Ledger(ctx, w2.Add(time.Hour), w2.Add(48*time.Hour)); err != nil || len(got) != 0 {
		t.Errorf("Ledger of a span without releases = %+v, %v", got, err)
	}
	if n := queryUint64(t, c, "SELECT count() FROM "+c.cfg.Database+".privacy_ledger"); n != 6 {
		t.Errorf("privacy_ledger holds %d rows, want all 6 written: it is an audit record", n)
	}
}

func TestAppendLedgerRefusesWhatItCannotHold(t *testing.T) {
	c, err := open(Config{}) // does not connect: the rows are refused first
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	good := ledgerRow(window, "r", window.Add(2*time.Hour))
	for _, tc := range []struct {
		want  string // in the refusal
		spoil func(*LedgerRow)
	}{
		{"window start", func(r *LedgerRow) { r.WindowStart = r.WindowStart.Add(time.Millisecond) }},
		{"window start", func(r *LedgerRow) { r.WindowStart = time.Time{} }},
		{"window end", func(r *LedgerRow) { r.WindowEnd = r.WindowStart }},
		{"no release name", func(r *LedgerRow) { r.Release = "" }},
		{"release time", func(r *LedgerRow) { r.ReleasedAt = time.Time{} }},
		{"epsilon spent NaN", func(r *LedgerRow) { r.EpsilonSpent = math.NaN() }},
		{"delta -1", func(r *LedgerRow) { r.Delta = -1 }},
		{"release delta NaN", func(r *LedgerRow) { r.ReleaseDelta = math.NaN() }},
		{"epsilon +Inf", func(r *LedgerRow) { r.Epsilon = math.Inf(1) }},
	} {
		r := good
		tc.spoil(&r)
		if err := c.AppendLedger(t.Context(), r); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("AppendLedger(%+v) = %v, want a refusal naming %q", r, err, tc.want)
		}
	}
}
