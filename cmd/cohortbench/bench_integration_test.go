package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/cohortline/cohortline/cmd/internal/console"
	"github.com/cohortline/cohortline/deploy/devenv"
)

// TestBenchSmall runs every stage of the benchmark on the real servers over
// 20k events: each reports a positive rate, Cohortline writes no duplicate
// partial, the Kafka engine with one consumer counts every event once, and
// nothing the run created is left behind.
func TestBenchSmall(t *testing.T) {
	kafkaAddr, chAddr := devenv.Kafka(t), devenv.ClickHouse(t)
	opts := options{
		Kafka: kafkaAddr, ClickHouse: chAddr, Cohortline: buildCohortline(t),
		Events: 20_000, EngineConsumers: []int{1}, EngineBlockSize: -1, Settle: 3 * time.Second, Stall: 30 * time.Second, Flink: "off", // TestBenchFlink
		MemUsers: []int{2_000, 5_000, 10_000}, CurvePartitions: []int{1, 8}, StageTimeout: 2 * time.Minute, Dir: t.TempDir(),
		Plot: filepath.Join(t.TempDir(), "curves.png"),
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

	for name, r := range map[string]readResult{"kafka.Reader": rep.Reader, "Conn.ReadBatch": rep.Batch} {
		if r.Messages != opts.Events || console.PerSecond(r.Messages, r.Wall) <= 0 {
			t.Errorf("(a) %s read %d messages in %v, want %d at a positive rate", name, r.Messages, r.Wall, opts.Events)
		}
	}
	if r := rep.Run; r.Messages != opts.Events || r.Wall <= 0 || r.CPU <= 0 || r.PeakRSS == 0 || r.Partials.Events == 0 {
		t.Errorf("(b) = %+v, want every message handled in a positive time, with CPU, RSS and events in the partials", r)
	}
	if d := rep.Run.Partials.Duplicates; d != 0 {
		t.Errorf("(b) wrote %d duplicate partial rows", d)
	}
	if rep.Expected != opts.Events || rep.TSVUnsafe != 0 {
		t.Errorf("expected %d rows for the engine (%d messages not one TSV field), want %d", rep.Expected, rep.TSVUnsafe, opts.Events)
	}
	if len(rep.Engines) != 1 {
		t.Fatalf("(c) ran %d times, want once", len(rep.Engines))
	}
	if e := rep.Engines[0]; e.Counted != e.Expected || !e.exact() || e.Stalled || e.Wall <= 0 {
		t.Errorf("(c) with 1 consumer counted %d of %d events (%d duplicated, %d lost, stalled %v) in %v, want all, once",
			e.Counted, e.Expected, e.Duplicated, e.Lost, e.Stalled, e.Wall)
	}
	if len(rep.ScaleOut) != 3 {
		t.Fatalf("scale-out ran %d times, want 1, 2 and 3 instances", len(rep.ScaleOut))
	}
	for _, row := range rep.ScaleOut {
		if r := row.Run; r.Messages != opts.Events || r.Wall <= 0 || r.CPU <= 0 || !row.sameOutput(rep.Run) {
			t.Errorf("scale-out with %d instances: %+v, want every message handled, with CPU, and (b)'s partials exactly", row.Instances, r)
		}
	}
	assertPartitionCurve(t, rep, []int{1, 8})
	assertMemoryCurve(t, rep.Memory, len(opts.MemUsers))
	if rep.plotErr != nil || !strings.HasPrefix(rep.PlotNote, "written to "+opts.Plot) {
		t.Errorf("plot: %v (%s), want it written to %s", rep.plotErr, rep.PlotNote, opts.Plot)
	} else if _, err := os.Stat(opts.Plot); err != nil {
		t.Errorf("plot: %v", err)
	}
	assertCleanedUp(t, kafkaAddr, chAddr, rep.ID)
}

// assertPartitionCurve checks that the partition curve has a row per
// count, the one of --partitions being stage (b), and that every other
// run handled every message with CPU, counted events and wrote no partial
// twice: what (b) is held to (its counts differ from (b)'s by the events
// that come late under other partitions' watermarks).
func assertPartitionCurve(t *testing.T, rep *report, want []int) {
	t.Helper()
	if len(rep.Curve) != len(want) {
		t.Fatalf("partition curve has %d rows, want %v", len(rep.Curve), want)
	}
	for i, row := range rep.Curve {
		r := row.Run
		if row.Partitions != want[i] || row.IsStageB != (row.Partitions == rep.opts.Partitions) {
			t.Errorf("partition curve row %d: %d partitions (stage (b): %v), want %d", i, row.Partitions, row.IsStageB, want[i])
		}
		if r.Messages != rep.Events || r.Wall <= 0 || row.cpuMicrosPerEvent() <= 0 || r.Partials.Events == 0 || r.Partials.Duplicates != 0 {
			t.Errorf("partition curve, %d partitions: %+v, want every message handled, with CPU, events counted and no duplicate partial", row.Partitions, r)
		}
	}
}

// assertMemoryCurve checks that the memory curve has a point per
// population, with active users growing with --users.
func assertMemoryCurve(t *testing.T, m *memoryResult, want int) {
	t.Helper()
	if m == nil || len(m.Points) != want {
		t.Fatalf("memory runs = %+v, want %d points", m, want)
	}
	for i, p := range m.Points {
		if p.Active == 0 || i > 0 && p.Active <= m.Points[i-1].Active || p.PeakRSS == 0 {
			t.Errorf("memory point %d = %+v, want active users growing with --users, and a peak RSS", i, p)
		}
	}
}

// assertCleanedUp checks that no topic or database named after the run is
// left. The broker deletes topics asynchronously: its metadata may list a
// deleted topic for a moment, so topics get a few seconds to go.
func assertCleanedUp(t *testing.T, kafkaAddr, chAddr, id string) {
	t.Helper()
	left := ""
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if left = topicNamed(t, kafkaAddr, id); left == "" || time.Now().After(deadline) {
			break
		}
	}
	if left != "" {
		t.Errorf("topic %s is left behind", left)
	}
	ch, err := openClickHouse(t.Context(), chAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	var dbs uint64
	prefix := strings.ReplaceAll(id, "-", "_")
	if err := ch.conn.QueryRow(t.Context(), "SELECT count() FROM system.databases WHERE startsWith(name, ?)", prefix).Scan(&dbs); err != nil {
		t.Fatal(err)
	}
	if dbs != 0 {
		t.Errorf("%d databases named %s… are left behind", dbs, prefix)
	}
}

// topicNamed returns a topic whose name starts with prefix, or "".
func topicNamed(t *testing.T, kafkaAddr, prefix string) string {
	t.Helper()
	conn, err := kafka.Dial("tcp", kafkaAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	parts, err := conn.ReadPartitions()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range parts {
		if strings.HasPrefix(p.Topic, prefix) {
			return p.Topic
		}
	}
	return ""
}

// buildCohortline builds cmd/cohortline into a temporary directory. On a
// fresh machine the build cache is cold and the other test packages compete
// for the cores: 2 minutes were seen to be too few.
func buildCohortline(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "cohortline")
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "../cohortline").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// testLog writes the benchmark's progress lines to the test log.
type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
