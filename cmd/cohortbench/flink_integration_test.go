package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cohortline/cohortline/cohorts"
	"github.com/cohortline/cohortline/deploy/devenv"
	"github.com/cohortline/cohortline/pipeline"
)

// TestBenchFlink runs stage (d) on the real servers over 20k events (with
// (a) and (b), which every run has; no (c) or memory runs): the Flink job,
// built by Maven if its jar is not, accounts for every message exactly
// once, gets every (cohort, window)'s events and distinct users right,
// completes checkpoints, and leaves nothing behind. 23 s here with the jar
// built; the first build downloads Flink from Maven Central (about 130 MB)
// and took the test to 34 s.
func TestBenchFlink(t *testing.T) {
	kafkaAddr, chAddr := devenv.Kafka(t), devenv.ClickHouse(t)
	if missing := flinkMissing(); missing != "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("stage (d) needs java and mvn (deploy/dev's Kafka needs them too): %s", missing)
		}
		t.Skipf("stage (d): %s", missing)
	}
	opts := options{
		Kafka: kafkaAddr, ClickHouse: chAddr, Cohortline: buildCohortline(t),
		Events: 20_000, EngineConsumers: []int{}, EngineBlockSize: -1, MemUsers: []int{}, CurvePartitions: []int{}, Plot: "none",
		Flink: "on", FlinkDir: "flink", FlinkCheckpointInterval: 300 * time.Millisecond,
		StageTimeout: 8 * time.Minute, Dir: t.TempDir(),
	}
	if err := opts.Validate(); err != nil {
		t.Fatal(err)
	}
	rep, err := runBench(t.Context(), opts, testLog{t})
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	rep.print(&out)
	t.Log(out.String())

	f := rep.Flink
	if f.Skipped != "" || f.Messages != opts.Events || f.Wall <= 0 || f.CPU <= 0 || f.PeakRSS == 0 {
		t.Fatalf("(d) = %+v, want every message read in a positive time, with CPU and RSS", f)
	}
	if !f.exact() {
		t.Errorf("(d) not exact: %d duplicated, %d lost (%v), %d duplicate rows, cells %+v, %d of %d invalid",
			f.Duplicated, f.Lost, f.LostKeys, f.DuplicateRows, f.Cells, f.Invalid, f.WantInvalid)
	}
	if f.Windowed+f.Late+f.Invalid != opts.Events || f.Windowed == 0 || f.Invalid == 0 || f.Cells.UsersExact == 0 {
		t.Errorf("(d) counted %d windowed + %d late + %d invalid events, want %d in all, some windowed and invalid (gen's bad records)",
			f.Windowed, f.Late, f.Invalid, opts.Events)
	}
	if f.Checkpoints == 0 {
		t.Errorf("(d) completed no checkpoint (every %s)", opts.FlinkCheckpointInterval)
	}
	if !strings.Contains(out.String(), "(b)/(d) = ") {
		t.Errorf("the report has no (b)/(d) line")
	}
	assertCleanedUp(t, kafkaAddr, chAddr, rep.ID)
}

// Stage (d) windows events as stage (b) does: the same window and lateness
// (the spec of the benchmark's runs) and the same bounded out-of-orderness.
func TestFlinkSettingsAreRuns(t *testing.T) {
	spec := cohorts.DefaultSpec()
	spec.Window = benchWindow
	cfg := pipeline.Config{Brokers: []string{"x:1"}, Topic: "t"}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if flinkWindow != spec.Window || flinkAllowedLateness != spec.AllowedLateness || flinkMaxOutOfOrder != cfg.MaxOutOfOrder {
		t.Errorf("(d) windows %s, lateness %s, out of order %s; (b) runs with %s, %s, %s",
			flinkWindow, flinkAllowedLateness, flinkMaxOutOfOrder, spec.Window, spec.AllowedLateness, cfg.MaxOutOfOrder)
	}
}

// A skipped stage (d) says so in the report and in its ratio line.
func TestFlinkSkipped(t *testing.T) {
	if got := flinkSkip(options{Flink: "off"}); got != "--flink off" {
		t.Errorf("flinkSkip(off) = %q", got)
	}
	if _, err := exec.LookPath("mvn"); err == nil {
		if got := flinkSkip(options{Flink: "auto"}); got != "" && flinkMissing() == "" {
			t.Errorf("flinkSkip(auto) with java and mvn = %q, want it run", got)
		}
	}
	r := &report{Flink: flinkResult{Skipped: "mvn not found on the PATH (--flink auto)"}}
	var out strings.Builder
	r.flinkLine(&out)
	r.flinkRatios(&out, 1)
	if !strings.Contains(out.String(), "(d) Flink: SKIPPED (mvn not found") || !strings.Contains(out.String(), "(b)/(d): not measured") {
		t.Errorf("report of a skipped (d):\n%s", out.String())
	}
}

// The benchmark's count of the topic (flinkTruth) reads every message as
// the job does: generated records, a fifth of them bad ones of every
// class, and the hand-made cases of TestParseEvent, through the job's own
// parser (ParseCheck.java) and through parseEvent and engineKey. It needs
// java and mvn (the jar is built as for stage (d)), not the servers; it
// runs where the integration tests do (a first build downloads from Maven
// Central, which make test-unit's hermetic run must not).
func TestFlinkParserParity(t *testing.T) {
	devenv.Kafka(t)
	if missing := flinkMissing(); missing != "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the Flink job's parser needs java and mvn: %s", missing)
		}
		t.Skipf("the Flink job's parser: %s", missing)
	}
	gen := exec.CommandContext(t.Context(), buildCohortline(t), "gen", "--seed", "9", "--users", "300", "--events", "5000", "--bad", "0.2", "--out", "-")
	records, err := gen.Output()
	if err != nil {
		t.Fatalf("cohortline gen: %v", err)
	}
	hand := []string{`{"ts":5,"user":"a","ts":6}`, `{"ts":5,"user":"a",}`, `{"ts":5.0,"user":"a"}`, `{"ts":99999999999999999999,"user":"a"}`,
		`{"ts":null,"user":"a"}`, `{"ts":1793491200000,"user":7}`, `[1]`, `{"x":{"ts":1},"ts":1793491200000,"user":"a","country":"BR"}`, ``}
	input := append(records, []byte(strings.Join(hand, "\n")+"\n")...)
	jar, err := buildFlinkJob(t.Context(), "flink", "", t.TempDir()+"/maven.log")
	if err != nil {
		t.Fatal(err)
	}
	const minTS, maxTS = flinkMinTS, 1893456000000 // 2030-01-01
	java := exec.CommandContext(t.Context(), "java", "-cp", jar.classpath, "cohortbench.flink.ParseCheck", strconv.FormatInt(minTS, 10), strconv.FormatInt(maxTS, 10))
	java.Stdin = bytes.NewReader(input)
	out, err := java.Output()
	if err != nil {
		t.Fatalf("ParseCheck: %v", err)
	}
	lines := bytes.Split(bytes.TrimSuffix(input, []byte("\n")), []byte("\n"))
	got := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(got) != len(lines) {
		t.Fatalf("ParseCheck printed %d lines for %d", len(got), len(lines))
	}
	var valid, wrong int
	for i, line := range lines {
		want := "invalid\t\t\t" + string(engineKey(nil, line))
		if ts, user, ok := parseEvent(line); ok && ts >= minTS && ts < maxTS {
			want = fmt.Sprintf("valid\t%d\t%s\t%s", ts, user, engineKey(nil, line))
			valid++
		}
		if got[i] != want {
			if wrong++; wrong <= 5 {
				t.Errorf("line %d %.200q: the job reads %q, the benchmark %q", i, line, got[i], want)
			}
		}
	}
	if wrong > 0 || valid == 0 || valid == len(lines) {
		t.Errorf("%d of %d lines read differently; %d valid", wrong, len(lines), valid)
	}
}
