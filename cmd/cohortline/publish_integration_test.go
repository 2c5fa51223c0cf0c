package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cohortline/cohortline/cmd/internal/configfile"
	"github.com/cohortline/cohortline/cohorts"
)

// TestPublishInvariants runs the pipeline with automatic publishing over a
// generated data set on the real servers, then checks the privacy
// invariants of DESIGN.md on what it left behind, one by one:
//   - invariant 1: no input token or event id in any String or Array column
//     of any table, in the logs, or in the dead-letter topic except inside
//     the verbatim copy of the rejected record itself (see deadLetterHits);
//   - invariant 3: no published row with a noisy count below k;
//   - minors: no cohort of age 13-17 anywhere, though the input has minors;
//   - invariant 4: a republish of the same partials gives the same rows and
//     spends nothing; a release over the budget is refused and writes
//     nothing.
//
// Invariant 5 (the targeter account) is TestTargeterAccount's.
func TestPublishInvariants(t *testing.T) {
	s := newFaultSet(t, "pub", "--seed", "33", "--users", "4000", "--events", "60000", "--span", "3h",
		"--late", "0.02", "--duplicates", "0.02", "--bad", "0.01")
	config := s.writeConfig(t, "cohortline.yaml", runOptions{publish: "{interval: 1s}"})
	ctx, stop := context.WithCancel(t.Context())
	var logs lockedBuffer
	exit := startRun(ctx, config, &logs)
	client := s.client(t, "")
	if _, err := waitForPartials(t, client, s.want, 120*time.Second, exit); err != nil {
		stop()
		t.Fatalf("%v\nlogs:\n%s", err, tail(logs.String(), 20))
	}
	windows := referenceWindows(s.want)
	pub := s.db + "_published"
	// Windows whose release is complete: booked, and its rows written (the
	// ledger row comes first, so stopping run right after it could leave a
	// window without rows, which the republish below would then add).
	published := func() int {
		var n uint64
		q := "SELECT uniqExact(window_start) FROM " + s.db + ".privacy_ledger WHERE rows_published = 0 OR (window_start, released_at) IN " +
			"(SELECT window_start, published_at FROM " + pub + ".cohort_enrichment)"
		if err := s.conn.QueryRow(t.Context(), q).Scan(&n); err != nil {
			return 0
		}
		return int(n)
	}
	ok := waitUntil(90*time.Second, func() bool { return published() >= len(windows) })
	stop()
	if code := <-exit; code != exitOK {
		t.Errorf("run exited %d", code)
	}
	if !ok {
		t.Fatalf("%d of %d windows published after 90s; logs:\n%s", published(), len(windows), tail(logs.String(), 20))
	}

	t.Run("no row below k", func(t *testing.T) {
		var rows, below uint64
		var minUsers uint64
		q := fmt.Sprintf("SELECT count(), countIf(users < %d), min(users) FROM %s.cohort_enrichment", cohorts.DefaultK, pub)
		if err := s.conn.QueryRow(t.Context(), q).Scan(&rows, &below, &minUsers); err != nil {
			t.Fatal(err)
		}
		if rows == 0 || below != 0 {
			t.Errorf("%d published rows, %d below k=%d (min users %d)", rows, below, cohorts.DefaultK, minUsers)
		}
		t.Logf("%d published rows over %d windows, smallest noisy count %d", rows, len(windows), minUsers)
	})

	t.Run("minors absent", func(t *testing.T) {
		if n := countMinors(t, s.ndjson); n == 0 {
			t.Fatal("the data set has no minors: the test would prove nothing")
		}
		for _, table := range []string{s.db + ".cohort_partials", pub + ".cohort_enrichment"} {
			var n uint64
			if err := s.conn.QueryRow(t.Context(), "SELECT count() FROM "+table+" WHERE cohort_key LIKE '%age=13-17%'").Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != 0 {
				t.Errorf("%s has %d rows of minors' cohorts", table, n)
			}
		}
	})

	secrets := inputSecrets(t, s.ndjson)
	t.Run("no token or event id in tables, logs or dead letters", func(t *testing.T) {
		for tok := range secrets.values { // the scanner finds what it looks for
			if hits := secrets.find(`{"x":"ab` + tok + `-"}`); !slices.Contains(hits, tok) {
				t.Fatalf("the scanner misses %q inside a longer run", tok)
			}
			break
		}
		checked := 0
		for _, db := range []string{s.db, pub} {
			checked += scanTables(t, s, db, secrets)
		}
		if checked == 0 {
			t.Fatal("no String or Array column scanned")
		}
		if hits := secrets.find(logs.String()); len(hits) > 0 {
			t.Errorf("the logs contain %d input tokens or event ids, e.g. %q", len(hits), hits[0])
		}
		deadLetterHits(t, s, secrets)
	})

	before := enrichmentSnapshot(t, s, pub)
	ledgerRows := func() uint64 {
		var n uint64
		if err := s.conn.QueryRow(t.Context(), "SELECT count() FROM "+s.db+".privacy_ledger").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	firstDay, lastDay := windows[0].Truncate(24*time.Hour), windows[len(windows)-1].Truncate(24*time.Hour).Add(24*time.Hour)
	span := []string{"--from", firstDay.Format(time.RFC3339), "--to", lastDay.Format(time.RFC3339)}

	t.Run("republish is identical and free", func(t *testing.T) {
		totals := func() (rows uint64, spent float64, republished uint64) {
			q := "SELECT count(), sum(epsilon_spent), countIf(republish = 1) FROM " + s.db + ".privacy_ledger"
			if err := s.conn.QueryRow(t.Context(), q).Scan(&rows, &spent, &republished); err != nil {
				t.Fatal(err)
			}
			return
		}
		rows0, spent0, rep0 := totals()
		code, out, errOut := runCLI(t, "", append([]string{"publish", "--config", config}, span...)...)
		if code != exitOK {
			t.Fatalf("publish: exit %d: %s", code, errOut)
		}
		if after := enrichmentSnapshot(t, s, pub); !slices.Equal(before, after) {
			t.Errorf("a republish of the same partials changed the published rows:\n%s", diffPartials(after, before))
		}
		rows1, spent1, rep1 := totals()
		added, spent, republished := rows1-rows0, spent1-spent0, rep1-rep0
		if int(added) != len(windows) || spent != 0 || republished != added {
			t.Errorf("republish added %d ledger rows (want %d) spending epsilon %g (want 0), %d marked republish; output:\n%s", added, len(windows), spent, republished, out)
		}
	})

	t.Run("exact in test mode: rows partition the users", func(t *testing.T) {
		exact := s.db + "_exact"
		t.Cleanup(func() { dropDatabases(t, s.clickhouse, exact) })
		cfg := s.writeConfig(t, "exact.yaml", runOptions{mode: configfile.ModeTest, publish: "{auto: false, noise: false}", publishedDatabase: exact})
		if code, _, errOut := runCLI(t, "", append([]string{"publish", "--config", cfg}, span...)...); code != exitOK {
			t.Fatalf("publish in test mode: exit %d: %s", code, errOut)
		}
		want := referenceTotals(s.want, "reach.kind.message_sent")
		rows, err := s.conn.Query(t.Context(), "SELECT window_start, sum(users), sum(features[1]), min(users) FROM "+exact+
			".cohort_enrichment FINAL GROUP BY window_start ORDER BY window_start")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		got := map[time.Time]bool{}
		for rows.Next() {
			var ws time.Time
			var users, minUsers uint64
			var reach float64
			if err := rows.Scan(&ws, &users, &reach, &minUsers); err != nil {
				t.Fatal(err)
			}
			got[ws.UTC()] = true
			w := want[ws.UTC()]
			if users != w[0] || uint64(reach) != w[1] || minUsers < cohorts.DefaultK {
				t.Errorf("window %s: published users %d, reach.kind.message_sent %g (min row %d); reference %d, %d",
					ws.UTC().Format(time.RFC3339), users, reach, minUsers, w[0], w[1])
			}
		}
		// A window with fewer than k users in all is suppressed whole.
		for _, ws := range windows {
			if !got[ws] && want[ws][0] >= cohorts.DefaultK {
				t.Errorf("window %s has %d users but nothing was published", ws.Format(time.RFC3339), want[ws][0])
			}
		}
		if len(got) == 0 {
			t.Error("nothing published without noise")
		}
	})

	t.Run("over budget is refused and writes nothing", func(t *testing.T) {
		// A new spec version is a new release: its noise is fresh, so it
		// spends again, over a per-window budget of one release.
		over := s.writeConfig(t, "over.yaml", runOptions{publish: "{auto: false, budget: {per_window: 4}}", specExtra: "version: 2"})
		n := ledgerRows()
		code, _, errOut := runCLI(t, "", append([]string{"publish", "--config", over}, span...)...)
		if code != exitFailure || !strings.Contains(errOut, "privacy budget exceeded") || !strings.Contains(errOut, "per_window 4") {
			t.Errorf("publish over budget: exit %d, stderr %q; want exit 1 naming the budget", code, errOut)
		}
		if after := ledgerRows(); after != n {
			t.Errorf("a refused release wrote %d ledger rows", after-n)
		}
		if after := enrichmentSnapshot(t, s, pub); !slices.Equal(before, after) {
			t.Error("a refused release changed the published rows")
		}
	})
}

// referenceWindows returns the window starts of the reference partials.
func referenceWindows(want []string) []time.Time {
	seen := map[time.Time]bool{}
	for _, p := range want {
		ws, err := time.Parse(time.RFC3339, strings.Fields(p)[0])
		if err == nil {
			seen[ws] = true
		}
	}
	out := make([]time.Time, 0, len(seen))
	for ws := range seen {
		out = append(out, ws)
	}
	slices.SortFunc(out, func(a, b time.Time) int { return a.Compare(b) })
	return out
}

// referenceTotals sums the reference partials per window: users, and the
// named feature.
func referenceTotals(want []string, feature string) map[time.Time][2]uint64 {
	out := map[time.Time][2]uint64{}
	for _, p := range want {
		fields := strings.Fields(p)
		ws, _ := time.Parse(time.RFC3339, fields[0])
		tot := out[ws]
		for _, f := range fields[2:] {
			name, v, _ := strings.Cut(f, "=")
			var n uint64
			fmt.Sscan(v, &n)
			switch name {
			case "users":
				tot[0] += n
			case feature:
				tot[1] += n
			}
		}
		out[ws] = tot
	}
	return out
}

// enrichmentSnapshot renders every published row that readers see.
func enrichmentSnapshot(t *testing.T, s *faultSet, pub string) []string {
	t.Helper()
	rows, err := s.conn.Query(t.Context(), "SELECT window_start, cohort_key, level, users, toString(features) FROM "+pub+
		".cohort_enrichment FINAL ORDER BY window_start, cohort_id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var ws time.Time
		var key, level, features string
		var users uint64
		if err := rows.Scan(&ws, &key, &level, &users, &features); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s %s [%s] users=%d %s", ws.UTC().Format(time.RFC3339), key, level, users, features))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func countMinors(t *testing.T, ndjson string) int {
	data, err := os.ReadFile(ndjson)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Count(data, []byte(`"age":"13-17"`))
}
