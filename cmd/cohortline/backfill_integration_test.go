package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cohortline/cohortline/schemas"
	"github.com/cohortline/cohortline/schemas/synth"
)

// The backfill tests' data: 3h02m of event time from synth.DefaultStart,
// so four hourly windows.
var (
	backfillGen  = []string{"--seed", "41", "--users", "3000", "--events", "60000", "--span", "3h2m", "--late", "0.02", "--duplicates", "0.02", "--bad", "0.01", "--drift-share", "0.2"}
	backfillFrom = synth.DefaultStart
	backfillTo   = synth.DefaultStart.Add(4 * time.Hour)
)

// backfillArgs is a backfill command line over the whole data set.
func backfillArgs(config, checkpoint string, extra ...string) []string {
	return append([]string{"backfill", "--config", config, "--from", backfillFrom.Format(time.RFC3339),
		"--to", backfillTo.Format(time.RFC3339), "--checkpoint", checkpoint}, extra...)
}

// TestBackfillParity runs streaming over a topic and publishes it, then
// backfills the same range from Kafka, from the NDJSON archive and from a
// Parquet archive of the same events. After each, the partials readers see
// are identical per window, partition and cohort, the published rows are
// identical, the ledger records a republish that spent nothing, and the live
// consumer group's offsets have not moved.
func TestBackfillParity(t *testing.T) {
	set := newFaultSet(t, "backfill", backfillGen...)
	parquet := filepath.Join(set.dir, "events.parquet")
	if code, _, errOut := runCLI(t, "", append(append([]string{"gen"}, backfillGen...), "--out", parquet)...); code != exitOK {
		t.Fatalf("gen --out %s: exit %d: %s", parquet, code, errOut)
	}
	config := set.writeConfig(t, "cohortline.yaml", runOptions{publish: "{auto: false}"})

	ctx, stop := context.WithCancel(t.Context())
	var logs lockedBuffer
	exit := startRun(ctx, config, &logs)
	_, err := waitForPartials(t, set.client(t, ""), set.want, 120*time.Second, exit)
	stop()
	if code := <-exit; code != exitOK || err != nil {
		t.Fatalf("streaming: exit %d, %v\nlogs:\n%s", code, err, tail(logs.String(), 20))
	}
	if code, out, errOut := runCLI(t, "", "publish", "--config", config, "--from", backfillFrom.Format(time.RFC3339), "--to", backfillTo.Format(time.RFC3339)); code != exitOK {
		t.Fatalf("publish: exit %d\n%s%s", code, out, errOut)
	}
	streamed, published := partitionPartials(t, set), publishedRows(t, set)
	offsets := committedOffsets(t, set.kafka, set.name, set.name)
	streamingVersions := set.lastProgressVersions(t)
	t.Logf("streaming: %d partition partials, %d published rows, committed offsets %v", len(streamed), len(published), offsets)

	sources := []struct {
		name string
		args []string
	}{
		{"kafka", nil},
		{"ndjson", []string{"--files", set.ndjson}},
		{"parquet", []string{"--files", parquet}},
	}
	for _, src := range sources {
		checkpoint := filepath.Join(set.dir, src.name+".checkpoint.json")
		began := time.Now()
		code, out, errOut := runCLI(t, "", backfillArgs(config, checkpoint, src.args...)...)
		if code != exitOK {
			t.Fatalf("backfill from %s: exit %d\n%s%s", src.name, code, out, errOut)
		}
		t.Logf("backfill from %s in %v:\n%s", src.name, time.Since(began).Round(time.Millisecond), out)
		if diff := diffLines(partitionPartials(t, set), streamed); diff != "" {
			t.Errorf("backfill from %s: partials differ from streaming's:\n%s", src.name, diff)
		}
		if diff := diffLines(publishedRows(t, set), published); diff != "" {
			t.Errorf("backfill from %s: published rows differ from streaming's:\n%s", src.name, diff)
		}
		if got := set.backfillVersions(t); got != 4*e2ePartitions {
			t.Errorf("backfill from %s: %d (window, partition)s read from backfill flushes, want %d", src.name, got, 4*e2ePartitions)
		}
		if _, err := os.Stat(checkpoint); !os.IsNotExist(err) {
			t.Errorf("backfill from %s: the checkpoint is still there after success (%v)", src.name, err)
		}
		checkRepublished(t, set)
	}
	if got := committedOffsets(t, set.kafka, set.name, set.name); !slices.Equal(got, offsets) {
		t.Errorf("the live group's committed offsets moved: %v, were %v", got, offsets)
	}
	if got := set.lastProgressVersions(t); !slices.Equal(got, streamingVersions) {
		t.Errorf("streaming's resume points changed: %v, were %v", got, streamingVersions)
	}

	// The range's source has nothing any more (say, the archive was
	// redacted): the backfill empties the windows and withdraws their
	// published cohorts, rather than leaving rows no partials back.
	empty := filepath.Join(set.dir, "empty.ndjson")
	writeTestFile(t, empty, "")
	code, out, errOut := runCLI(t, "", backfillArgs(config, filepath.Join(set.dir, "empty.checkpoint.json"),
		"--files", empty, "--partitions", fmt.Sprint(e2ePartitions))...)
	if code != exitOK {
		t.Fatalf("backfill from an empty archive: exit %d\n%s%s", code, out, errOut)
	}
	var inRange []string // the hour before the range keeps its out-of-order events
	for _, line := range partitionPartials(t, set) {
		if line >= backfillFrom.Format(time.DateTime) {
			inRange = append(inRange, line)
		}
	}
	if len(inRange) != 0 {
		t.Errorf("after a backfill from an empty archive, %d partials of the range are current, e.g. %s; its output:\n%s", len(inRange), inRange[0], out)
	}
	if got := publishedRows(t, set); len(got) != 0 {
		t.Errorf("after a backfill from an empty archive, %d published rows are left, e.g. %s", len(got), got[0])
	}
}

// checkRepublished checks the ledger after a backfill: every window has
// its streaming release, which spent the window's epsilon, and republishes
// that spent nothing. (Identical ledger rows written in the same second
// fold into one, so the republishes are not counted.)
func checkRepublished(t *testing.T, set *faultSet) {
	t.Helper()
	rows, err := set.client(t, "").Ledger(t.Context(), backfillFrom, backfillTo)
	if err != nil {
		t.Fatal(err)
	}
	perWindow := map[time.Time][]string{}
	for _, r := range rows {
		perWindow[r.WindowStart] = append(perWindow[r.WindowStart], fmt.Sprintf("republish=%t spent=%g", r.Republish, r.EpsilonSpent))
	}
	if len(perWindow) != 4 {
		t.Errorf("ledger has %d windows, want 4", len(perWindow))
	}
	want := []string{"republish=false spent=4", "republish=true spent=0"}
	for w, entries := range perWindow {
		slices.Sort(entries)
		if !slices.Equal(slices.Compact(entries), want) {
			t.Errorf("ledger of window %s: %v, want the streaming release and free republishes %v", w.Format(time.RFC3339), entries, want)
		}
	}
}

// referenceInRange keeps the reference partials (partialText lines) of
// the windows that start in [backfillFrom, backfillTo): the data set also
// has a few out-of-order events in the hour before.
func referenceInRange(want []string) []string {
	var out []string
	for _, line := range want {
		start, _, _ := strings.Cut(line, " ")
		if start >= backfillFrom.Format(time.RFC3339) && start < backfillTo.Format(time.RFC3339) {
			out = append(out, line)
		}
	}
	return out
}

// partitionPartials lists what readers see per window, topic, partition and
// cohort (cohort_partials_current), without the flush version.
func partitionPartials(t *testing.T, set *faultSet) []string {
	t.Helper()
	return queryLines(t, set, `SELECT concat(toString(window_start), ' ', topic, '/', toString(partition), ' ', cohort_key,
		' users=', toString(users), ' events=', toString(events), ' values=', arrayStringConcat(arrayMap(x -> toString(x), values), ','))
		FROM `+set.db+`.cohort_partials_current`)
}

// publishedRows lists the published rows readers see: the latest of each
// cohort and window.
func publishedRows(t *testing.T, set *faultSet) []string {
	t.Helper()
	return queryLines(t, set, `SELECT concat(toString(window_start), ' ', cohort_key, ' ', level, ' ', release,
		' users=', toString(users), ' features=', arrayStringConcat(arrayMap(x -> toString(x), features), ','))
		FROM (SELECT window_start, cohort_key, argMax(level, published_at) AS level, argMax(release, published_at) AS release,
		             argMax(users, published_at) AS users, argMax(features, published_at) AS features
		      FROM `+set.db+`_published.cohort_enrichment GROUP BY window_start, cohort_key)`)
}

func queryLines(t *testing.T, set *faultSet, q string) []string {
	t.Helper()
	rows, err := set.conn.Query(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// diffLines lists the lines only one side has, at most 10 of each.
func diffLines(got, want []string) string {
	if slices.Equal(got, want) {
		return ""
	}
	return fmt.Sprintf("%d lines, want %d\n%s", len(got), len(want), diffPartials(got, want))
}

// backfillVersions counts the (window, partition)s whose newest flush is a
// backfill's.
func (s *faultSet) backfillVersions(t *testing.T) int {
	t.Helper()
	return len(queryLines(t, s, fmt.Sprintf(`SELECT concat(toString(window_start), '/', toString(partition))
		FROM %s.backfill_progress GROUP BY window_start, partition HAVING max(flush_version) >= %d`, s.db, schemas.FirstBackfillVersion)))
}

// lastProgressVersions lists, per partition, the flush a streaming worker
// taking the partition over would resume from.
func (s *faultSet) lastProgressVersions(t *testing.T) []string {
	t.Helper()
	c := s.client(t, "")
	var out []string
	for p := range e2ePartitions {
		pr, ok, err := c.Writer().LastFlush(t.Context(), s.name, p)
		if err != nil || !ok {
			t.Fatalf("LastFlush of partition %d: %v, found %t", p, err, ok)
		}
		out = append(out, fmt.Sprintf("%d: v%d %s wm %s", p, pr.Version, time.UnixMilli(pr.WindowStart).UTC().Format(time.RFC3339), time.UnixMilli(pr.Watermark).UTC().Format(time.RFC3339Nano)))
	}
	return out
}

// TestBackfillResumeAfterKill kills a Kafka backfill process with SIGKILL
// in the middle (as its third partials insert reaches ClickHouse), checks
// that readers see nothing of it, then resumes it from its checkpoint: the
// result equals the reference of the whole range, and the windows are
// published. Then a dry run over the same range reports no change, and one
// with another contribution bound reports the changed windows and writes
// nothing.
func TestBackfillResumeAfterKill(t *testing.T) {
	set := newFaultSet(t, "bfkill", backfillGen...)
	bin := buildCohortline(t)
	proxy := startCHProxy(t, set.clickhouse, set.db)
	config := set.writeConfig(t, "proxied.yaml", runOptions{clickhouse: proxy.addr})
	checkpoint := filepath.Join(set.dir, "kill.checkpoint.json")

	fired, release := make(chan struct{}), make(chan struct{})
	defer close(release)
	var inserts atomic.Int32
	proxy.setHook(func(ev proxyEvent) bool {
		if ev.Table != "cohort_partials" || ev.Phase != insertSent || inserts.Add(1) != 3 {
			return true
		}
		close(fired)
		<-release // held until the process is dead
		return false
	})
	d := startCommand(t, bin, filepath.Join(set.dir, "killed.log"), backfillArgs(config, checkpoint, "--parallel", "1")...)
	select {
	case <-fired:
		d.kill()
	case code := <-d.exit:
		t.Fatalf("backfill exited %d before its third insert; log:\n%s", code, d.logTail(20))
	case <-time.After(60 * time.Second):
		t.Fatalf("no third partials insert in 60s; log:\n%s", d.logTail(20))
	}
	proxy.setHook(nil)
	if n := set.backfillVersions(t); n != 0 {
		t.Errorf("readers see %d (window, partition)s of a backfill that was killed before its commit", n)
	}
	data, err := os.ReadFile(checkpoint)
	if err != nil {
		t.Fatalf("no checkpoint after the kill: %v", err)
	}
	if !strings.Contains(string(data), `"flushes": [`) {
		t.Errorf("the checkpoint records no flush before the kill:\n%s", data)
	}

	direct := set.writeConfig(t, "direct.yaml", runOptions{})
	code, out, errOut := runCLI(t, "", backfillArgs(direct, checkpoint, "--resume")...)
	if code != exitOK {
		t.Fatalf("backfill --resume: exit %d\n%s%s", code, out, errOut)
	}
	t.Logf("resumed:\n%s", out)
	if _, err := waitForPartials(t, set.client(t, ""), referenceInRange(set.want), 10*time.Second, nil); err != nil {
		t.Fatalf("after the kill and resume: %v", err)
	}
	if rows, err := set.client(t, "").Ledger(t.Context(), backfillFrom, backfillTo); err != nil || len(rows) != 4 {
		t.Errorf("ledger after the resumed backfill: %d rows (%v), want a release of each of the 4 windows", len(rows), err)
	}

	// Dry runs: the same data changes nothing; a tighter bound changes
	// every window, and nothing is written.
	code, out, errOut = runCLI(t, "", backfillArgs(direct, "", "--dry-run")...)
	if code != exitOK || !strings.Contains(out, "dry run: 0 windows would change, 4 would stay the same") {
		t.Errorf("dry run over unchanged data: exit %d\n%s%s", code, out, errOut)
	}
	before := partitionPartials(t, set)
	tighter := set.writeConfig(t, "tighter.yaml", runOptions{specExtra: "version: 2"})
	tighterYAML, _ := os.ReadFile(tighter)
	os.WriteFile(tighter, []byte(strings.Replace(string(tighterYAML), fmt.Sprintf("events: %d", e2eBoundEvents), "events: 3", 1)), 0o600)
	code, out, errOut = runCLI(t, "", backfillArgs(tighter, "", "--dry-run")...)
	if code != exitOK || !strings.Contains(out, "dry run: 4 windows would change, 0 would stay the same") || !strings.Contains(out, "largest changes") {
		t.Errorf("dry run with a tighter bound: exit %d\n%s%s", code, out, errOut)
	}
	t.Logf("dry run with a tighter bound:\n%s", out)
	if diff := diffLines(partitionPartials(t, set), before); diff != "" {
		t.Errorf("a dry run changed the partials:\n%s", diff)
	}
}
