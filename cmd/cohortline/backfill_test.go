package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cohortline/cohortline/cmd/internal/console"
	"github.com/cohortline/cohortline/pipeline/backfill"
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
		{[]string{"backfill", "--config", config, "--from", "2026-11-01T00:30", "--to", "2026-11-02"}, "--from: 2026-11-01T00:30 does not start a window: windows of 24h start at 2026-11-01T00:00:00Z"},
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

// The dry run's report lists the changed windows, then the largest
// changes first (backfill.Diff finds them: TestDiff in pipeline/backfill).
func TestPrintDryRun(t *testing.T) {
	w0, w1 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 1, 1, 0, 0, 0, time.UTC)
	diffs := []backfill.WindowDiff{
		{Window: w0, Before: 2, After: 2, Added: 1, Removed: 1, Changed: 1, UsersBefore: 15, UsersAfter: 50, EventsBefore: 25, EventsAfter: 100,
			Cohorts: []backfill.CohortDiff{
				{Window: w0, Key: "a", UsersBefore: 10, UsersAfter: 10, EventsBefore: 20, EventsAfter: 20, ValuesChanged: 1},
				{Window: w0, Key: "b", UsersBefore: 5, EventsBefore: 5},
				{Window: w0, Key: "c", UsersAfter: 40, EventsAfter: 80},
			}},
		{Window: w1, Before: 1, After: 1, UsersBefore: 7, UsersAfter: 7, EventsBefore: 7, EventsAfter: 7},
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
	sources := []backfill.SourceProgress{
		{Name: "partition 0", Done: 50, Total: 100, Messages: 5000, Bytes: 2_000_000},
		{Name: "partition 1", Done: 100, Total: 100, Messages: 9000, Bytes: 3_500_000, Finished: true},
	}
	bar := console.SourceBar(sourceOf(sources[0]), 11, 10*time.Second)
	for _, want := range []string{"partition 0", "50.0%", "5,000 msgs", "2.0 MB", "500 msg/s", "ETA 10s"} {
		if !strings.Contains(bar, want) {
			t.Errorf("bar %q lacks %q", bar, want)
		}
	}
	if bar := console.SourceBar(sourceOf(sources[1]), 11, 10*time.Second); !strings.Contains(bar, "100.0%") || !strings.HasSuffix(bar, "done") {
		t.Errorf("finished bar %q", bar)
	}
	all, _ := backfill.Overall(sources)
	sum := console.SourcesSummary([]console.Source{sourceOf(sources[0]), sourceOf(sources[1])}, sourceOf(all), 10*time.Second)
	for _, want := range []string{"75.0%", "1/2 sources done", "14,000 messages", "5.5 MB", "1k msg/s", "ETA 3s"} {
		if !strings.Contains(sum, want) {
			t.Errorf("summary %q lacks %q", sum, want)
		}
	}
}
