package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/cohortline/cohortline/cohorts"
	"github.com/cohortline/cohortline/deploy/devenv"
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
		cfg := s.writeConfig(t, "exact.yaml", runOptions{mode: modeTest, publish: "{auto: false, noise: false}", publishedDatabase: exact})
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

// secretSet is the input's user tokens and event ids.
type secretSet struct {
	values  map[string]bool
	lengths []int
}

var secretRun = regexp.MustCompile(`[A-Za-z0-9_-]{8,}`)

// find returns the tokens and ids that occur in text: every substring of
// every run of token characters, of every length a secret has.
func (s secretSet) find(text string) []string {
	var hits []string
	for _, run := range secretRun.FindAllString(text, -1) {
		for _, n := range s.lengths {
			for i := 0; i+n <= len(run); i++ {
				if s.values[run[i:i+n]] {
					hits = append(hits, run[i:i+n])
				}
			}
		}
	}
	return hits
}

// inputSecrets collects the user and id fields of every input line that
// parses as JSON, bad records included.
func inputSecrets(t *testing.T, ndjson string) secretSet {
	t.Helper()
	f, err := os.Open(ndjson)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := secretSet{values: map[string]bool{}}
	lengths := map[int]bool{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var rec struct {
			User, ID any
		}
		if json.Unmarshal(sc.Bytes(), &rec) != nil {
			continue
		}
		for _, v := range []any{rec.User, rec.ID} {
			if str, ok := v.(string); ok && len(str) >= 8 && secretRun.MatchString(str) && secretRun.FindString(str) == str {
				s.values[str] = true
				lengths[len(str)] = true
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	for n := range lengths {
		s.lengths = append(s.lengths, n)
	}
	if len(s.values) < 1000 {
		t.Fatalf("only %d tokens and ids in the input", len(s.values))
	}
	return s
}

// scanTables reads every String, FixedString and Array column of every
// table and view of db and fails on any input token or event id; it
// returns how many columns it read.
func scanTables(t *testing.T, s *faultSet, db string, secrets secretSet) int {
	t.Helper()
	rows, err := s.conn.Query(t.Context(), `SELECT table, name FROM system.columns WHERE database = ?
		AND (type LIKE '%String%' OR type LIKE 'Array%') ORDER BY table, name`, db)
	if err != nil {
		t.Fatal(err)
	}
	var cols [][2]string
	for rows.Next() {
		var table, name string
		if err := rows.Scan(&table, &name); err != nil {
			t.Fatal(err)
		}
		cols = append(cols, [2]string{table, name})
	}
	rows.Close()
	for _, c := range cols {
		vals, err := s.conn.Query(t.Context(), fmt.Sprintf("SELECT toString(`%s`) FROM %s.`%s`", c[1], db, c[0]))
		if err != nil {
			t.Fatalf("reading %s.%s.%s: %v", db, c[0], c[1], err)
		}
		for vals.Next() {
			var v string
			if err := vals.Scan(&v); err != nil {
				t.Fatal(err)
			}
			if hits := secrets.find(v); len(hits) > 0 {
				t.Errorf("%s.%s column %s holds input token or event id %q", db, c[0], c[1], hits[0])
			}
		}
		vals.Close()
	}
	return len(cols)
}

// deadLetterHits reads the dead-letter topic. A pii_suspected dead letter
// has no key and no value; any other carries the rejected record verbatim
// (DESIGN.md: for inspection and re-drive), so a token may occur in its
// key and value, but nowhere else: not in a header, and not in a value
// that is not byte for byte an input record.
func deadLetterHits(t *testing.T, s *faultSet, secrets secretSet) {
	t.Helper()
	lines := map[string]bool{}
	data, err := os.ReadFile(s.ndjson)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range bytes.Split(data, []byte("\n")) {
		lines[string(l)] = true
	}
	topic := s.name + ".dlq"
	total := 0
	for p := range partitionCount(t, s.kafka, topic) {
		end := topicSizeOf(t, s.kafka, topic, p)
		if end == 0 {
			continue
		}
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{s.kafka}, Topic: topic, Partition: p, MaxWait: 100 * time.Millisecond})
		for range end {
			m, err := r.ReadMessage(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			total++
			reason := ""
			for _, h := range m.Headers {
				if hits := secrets.find(string(h.Value)); len(hits) > 0 {
					t.Errorf("dead letter at %d: header %s holds %q", m.Offset, h.Key, hits[0])
				}
				if h.Key == "reason" {
					reason = string(h.Value)
				}
			}
			switch {
			case reason == "pii_suspected" && (len(m.Key) > 0 || len(m.Value) > 0):
				t.Errorf("pii_suspected dead letter at %d has a key or value", m.Offset)
			case reason != "pii_suspected" && !lines[string(m.Value)] && len(secrets.find(string(m.Value))) > 0:
				t.Errorf("dead letter at %d carries a token in a value that is not the rejected record", m.Offset)
			}
		}
		r.Close()
	}
	if total == 0 {
		t.Error("no dead letters: the data set has bad records, the test proves nothing")
	}
}

// topicSizeOf is the end offset of one partition.
func topicSizeOf(t *testing.T, addr, topic string, partition int) int64 {
	t.Helper()
	client := &kafka.Client{Addr: kafka.TCP(addr)}
	resp, err := client.ListOffsets(t.Context(), &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: {kafka.LastOffsetOf(partition)}}})
	if err != nil {
		t.Fatal(err)
	}
	return resp.Topics[topic][0].LastOffset
}

// TestPublishRefusesAnUnmigratedDatabase: publish against a database that
// run, backfill or migrate never created (a typo in clickhouse.database)
// fails naming the key, and creates neither database.
func TestPublishRefusesAnUnmigratedDatabase(t *testing.T) {
	addr := devenv.ClickHouse(t)
	db := fmt.Sprintf("it_never_migrated_%d", time.Now().UnixNano())
	config := writeConfig(t, fmt.Sprintf("mode: development\nkafka: {brokers: [127.0.0.1:1], topic: t}\n"+
		"clickhouse: {addr: [%s], database: %s, published_database: %s_published}\n", addr, db, db))
	code, out, errOut := runCLI(t, "", "publish", "--config", config, "--window", "2026-11-01")
	if code != exitUsage || !strings.Contains(errOut, `clickhouse.database "`+db+`"`) || !strings.Contains(errOut, "was never migrated") {
		t.Errorf("exit %d, stdout %q, stderr %q; want exit %d naming clickhouse.database", code, out, errOut, exitUsage)
	}
	conn := openConn(t, addr)
	var n uint64
	if err := conn.QueryRow(t.Context(), "SELECT count() FROM system.databases WHERE name IN (?, ?)", db, db+"_published").Scan(&n); err != nil || n != 0 {
		t.Errorf("publish created %d databases (%v)", n, err)
	}
}
