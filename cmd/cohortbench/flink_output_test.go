package main

import (
	"io"
	"strings"
	"testing"
)

func TestParseFlinkDone(t *testing.T) {
	for _, tc := range []struct {
		line    string
		ok, err bool
		want    flinkDone
	}{
		{`cohortbench-flink: {"net_runtime_ms":4845,"records":20000,"first_record_ms":1796346656194,"last_record_ms":1796346656984}` + "\n",
			true, false, flinkDone{NetRuntimeMS: 4845, Records: 20000, FirstRecordMS: 1796346656194, LastRecordMS: 1796346656984}},
		{"[main] INFO org.apache.flink.runtime.Foo - cohortbench-flink: {}\n", false, false, flinkDone{}},
		{`cohortbench-flink: {"records":null` + "\n", true, true, flinkDone{}},
		{`cohortbench-flink: {"records":1,"first_record_ms":9,"last_record_ms":8}`, true, true, flinkDone{}},
	} {
		got, ok, err := parseFlinkDone([]byte(tc.line))
		if ok != tc.ok || (err != nil) != tc.err || got != tc.want {
			t.Errorf("parseFlinkDone(%q) = %+v, %v, %v; want %+v, %v, error %v", tc.line, got, ok, err, tc.want, tc.ok, tc.err)
		}
	}
}

// The result line is found when it comes in pieces, among other lines.
func TestDoneWatch(t *testing.T) {
	var out strings.Builder
	w := newDoneWatch(&out)
	text := "log line\ncohortbench-flink: {\"net_runtime_ms\":7,\"records\":3,\"first_record_ms\":1,\"last_record_ms\":2}\nafter\n"
	for i := 0; i < len(text); i += 5 {
		select {
		case <-w.seen:
			t.Fatalf("seen after %d bytes, before the line ended", i)
		default:
		}
		io.WriteString(w, text[i:min(i+5, len(text))])
		if i+5 >= strings.Index(text, "}\n")+2 {
			break
		}
	}
	<-w.seen
	done, err := w.result()
	if err != nil || done != (flinkDone{NetRuntimeMS: 7, Records: 3, FirstRecordMS: 1, LastRecordMS: 2}) {
		t.Errorf("result = %+v, %v", done, err)
	}
	if !strings.HasPrefix(text, out.String()) || !strings.Contains(out.String(), "records") {
		t.Errorf("passed through %q, want the text as written", out.String())
	}
}

func TestCompletedCheckpoints(t *testing.T) {
	log := "[jobmanager-io-thread-1] INFO org.apache.flink.runtime.checkpoint.CheckpointCoordinator - Completed checkpoint 1 for job 3f (12345 bytes, checkpointDuration=120 ms, finalizationTime=2 ms).\n" +
		"[x] INFO org.apache.flink.runtime.checkpoint.CheckpointCoordinator - Triggering checkpoint 2 (type=CheckpointType{name='Checkpoint'})\n" +
		"[jobmanager-io-thread-2] INFO org.apache.flink.runtime.checkpoint.CheckpointCoordinator - Completed checkpoint 2 for job 3f (2 bytes).\n"
	if n := completedCheckpoints([]byte(log)); n != 2 {
		t.Errorf("completedCheckpoints = %d, want 2", n)
	}
}
