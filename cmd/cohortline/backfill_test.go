package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cohortline/cohortline/pipeline"
	"github.com/cohortline/cohortline/sinks/clickhouse"
)

func TestBackfillFlagErrors(t *testing.T) {
	config := writeTestConfig(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"backfill", "--from", "2026-11-01", "--to", "2026-11-02"}, "--config FILE is required"},
		{[]string{"backfill", "--config", config, "--to", "2026-11-02"}, "--from and --to are required"},
		{[]string{"backfill", "--config", config, "--from", "2026-11-01", "--to", "2026-11-02", "--source", "s3"}, `--source "s3"`},
		{[]string{"backfill", "--config", config, "--from", "2026-11-01", "--to", "2026-11-02", "--source", "kafka", "--files", "a.ndjson"}, "exclude each other"},
		{[]string{"backfill", "--config", config, "--from", "2026-11-01", "--to", "2026-11-02", "--on-error", "ignore"}, `--on-error "ignore"`},
		{[]string{"backfill", "--config", config, "--from", "2026-11-01", "--to", "2026-11-02", "--on-reject", "drop"}, `--on-reject "drop"`},
		{[]string{"backfill", "--config", config, "--from", "2026-11-01", "--to", "2026-11-02", "--partitions", "4"}, "--partitions applies to --files only"},
		{[]string{"backfill", "--config", config, "--from", "2026-11-01", "--to", "2026-11-02", "--dry-run", "--resume"}, "cannot --resume"},
		{[]string{"backfill", "--config", config, "--from", "2026-11-01T00:30", "--to", "2026-11-02"}, "is not the start of a 24h0m0s window (try 2026-11-01T00:00:00Z)"},
		{[]string{"backfill", "--config", config, "--from", "2026-11-02", "--to", "2026-11-01"}, "is not after --from"},
		{[]string{"backfill", "--config", config, "--from", "yesterday", "--to", "2026-11-01"}, `"yesterday" is not a time`},
	} {
		code, _, errOut := runCLI(t, "", tc.args...)
		if code != exitUsage || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", tc.args, code, errOut, exitUsage, tc.want)
		}
	}
}

// writeTestConfig writes a development config that needs no server to load.
func writeTestConfig(t *testing.T) string {
	t.Helper()
	path := t.TempDir() + "/cohortline.yaml"
	writeTestFile(t, path, "mode: development\nkafka: {brokers: [127.0.0.1:1], topic: activity}\nclickhouse: {addr: [127.0.0.1:1]}\n")
	return path
}

// The dry run's comparison finds added, removed and changed cohorts per
// window and orders the changes by size.
func TestPartialsChange(t *testing.T) {
	w0, w1 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 1, 1, 0, 0, 0, time.UTC)
	row := func(w time.Time, id uint64, key string, users, events uint64, values ...uint64) clickhouse.PartialRow {
		return clickhouse.PartialRow{WindowStart: w, CohortID: id, CohortKey: key, FeatureSet: 1, Users: users, Events: events, Values: values}
	}
	now := []clickhouse.PartialRow{row(w0, 1, "a", 10, 20, 1, 2), row(w0, 2, "b", 5, 5, 0, 0), row(w1, 1, "a", 7, 7, 3, 3)}
	next := []clickhouse.PartialRow{row(w0, 1, "a", 10, 20, 1, 9), row(w0, 3, "c", 40, 80, 0, 0), row(w1, 1, "a", 7, 7, 3, 3)}
	diffs := partialsChange(now, next)
	if len(diffs) != 2 {
		t.Fatalf("%d windows, want 2", len(diffs))
	}
	d := diffs[0]
	if d.window != w0 || d.before != 2 || d.after != 2 || d.added != 1 || d.removed != 1 || d.changed != 1 ||
		d.usersBefore != 15 || d.usersAfter != 50 || d.eventsBefore != 25 || d.eventsAfter != 100 {
		t.Errorf("window 0: %+v", d)
	}
	if d := diffs[1]; d.added+d.removed+d.changed != 0 {
		t.Errorf("window 1 is unchanged, got %+v", d)
	}
	var out bytes.Buffer
	printDryRun(&out, diffs, 2)
	text := out.String()
	for _, want := range []string{`dry run: 1 windows would change, 1 would stay the same`, `largest changes \(of 3 cohort-windows\)`, `\sc\s+0 → 40\s+0 → 80\s`, `\sb\s+5 → 0\s+5 → 0\s`} {
		if !regexp.MustCompile(want).MatchString(text) {
			t.Errorf("dry-run output lacks %q:\n%s", want, text)
		}
	}
	if strings.Index(text, " c ") > strings.Index(text, " b ") || regexp.MustCompile(`\sa\s+10 → 10`).MatchString(text) {
		t.Errorf("the largest change (c, 40 users) is not first, or the 3rd of show=2 is listed:\n%s", text)
	}
}

func TestBackfillProgressLines(t *testing.T) {
	sources := []pipeline.SourceProgress{
		{Name: "partition 0", Done: 50, Total: 100, Messages: 5000, Bytes: 2_000_000},
		{Name: "partition 1", Done: 100, Total: 100, Messages: 9000, Bytes: 3_500_000, Finished: true},
	}
	bar := progressBar(sources[0], 11, 10*time.Second)
	for _, want := range []string{"partition 0", "50.0%", "5,000 msgs", "2.0 MB", "500 msg/s", "ETA 10s"} {
		if !strings.Contains(bar, want) {
			t.Errorf("bar %q lacks %q", bar, want)
		}
	}
	if bar := progressBar(sources[1], 11, 10*time.Second); !strings.Contains(bar, "100.0%") || !strings.HasSuffix(bar, "done") {
		t.Errorf("finished bar %q", bar)
	}
	sum := progressSummary(sources, 10*time.Second)
	for _, want := range []string{"75.0%", "1/2 sources done", "14,000 messages", "5.5 MB", "1k msg/s", "ETA 3s"} {
		if !strings.Contains(sum, want) {
			t.Errorf("summary %q lacks %q", sum, want)
		}
	}
}
