package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sync"
)

// flinkDoneMarker starts the one line the job prints on standard output
// once it has finished (Job.java): a JSON object, flinkDone.
const flinkDoneMarker = "cohortbench-flink: "

// flinkDone is the job's own account of its run: Flink's net runtime of
// the job (from submission to the end, MiniCluster start excluded) and
// accumulators over all source subtasks.
type flinkDone struct {
	NetRuntimeMS  int64 `json:"net_runtime_ms"`
	Records       int64 `json:"records"`         // messages read
	FirstRecordMS int64 `json:"first_record_ms"` // wall clock, Unix ms, when the first was handled
	LastRecordMS  int64 `json:"last_record_ms"`  // and the last
}

// parseFlinkDone reads one line of the job's standard output: ok is false
// for any other line.
func parseFlinkDone(line []byte) (d flinkDone, ok bool, err error) {
	rest, found := bytes.CutPrefix(bytes.TrimRight(line, "\r\n"), []byte(flinkDoneMarker))
	if !found {
		return flinkDone{}, false, nil
	}
	if err := json.Unmarshal(rest, &d); err != nil {
		return flinkDone{}, true, fmt.Errorf("reading the Flink job's result line %q: %w", line, err)
	}
	if d.Records < 0 || d.NetRuntimeMS < 0 || d.LastRecordMS < d.FirstRecordMS {
		return flinkDone{}, true, fmt.Errorf("the Flink job's result line %q is inconsistent", line)
	}
	return d, true, nil
}

// doneWatch passes the job's standard output through to w and closes
// seen once the result line has come (the line may arrive in pieces);
// done and err then hold what it said.
type doneWatch struct {
	w    io.Writer
	seen chan struct{}

	mu      sync.Mutex
	partial []byte // the start of a line not yet ended
	closed  bool
	done    flinkDone
	err     error
}

func newDoneWatch(w io.Writer) *doneWatch { return &doneWatch{w: w, seen: make(chan struct{})} }

func (d *doneWatch) Write(p []byte) (int, error) {
	d.mu.Lock()
	if !d.closed {
		d.partial = append(d.partial, p...)
		for {
			i := bytes.IndexByte(d.partial, '\n')
			if i < 0 {
				break
			}
			done, ok, err := parseFlinkDone(d.partial[:i+1])
			d.partial = d.partial[i+1:]
			if ok {
				d.done, d.err, d.closed = done, err, true
				d.partial = nil
				close(d.seen)
				break
			}
		}
	}
	d.mu.Unlock()
	return d.w.Write(p)
}

// result returns what the result line said; call it after seen is closed.
func (d *doneWatch) result() (flinkDone, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.done, d.err
}

// completedCheckpoints counts the checkpoints the job's log says were
// completed (the CheckpointCoordinator's INFO lines, the one logger the
// job leaves at INFO).
func completedCheckpoints(log []byte) int {
	return bytes.Count(log, []byte("Completed checkpoint "))
}
