package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"time"
)

// flushStats is what a run's log says about its window flushes: each
// partition worker waits for its own flushes (the insert into ClickHouse)
// before it reads on, so their latency is time the partition is not read.
type flushStats struct {
	Count   int
	Latency time.Duration // summed over all flushes
	Inserts int64         // into cohort_partials, from the "sink totals" line at exit; 0 if absent
}

// gcLine matches the heap sizes of a GODEBUG=gctrace=1 line: heap at the
// start of the GC, at its end, and marked live, in MB (2^20 bytes).
var gcLine = regexp.MustCompile(`^gc \d+ @.* (\d+)->(\d+)->(\d+) MB`)

// readRunLog reads a cohortline run's log: the "window flushed" lines, the
// "sink totals" line and, if the run was traced, the largest live heap a garbage collection found.
func readRunLog(path string) (flushStats, uint64, error) {
	f, err := os.Open(path)
	if err != nil {
		return flushStats{}, 0, err
	}
	defer f.Close()
	var s flushStats
	var live uint64
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if bytes.HasPrefix(line, []byte("gc ")) {
			if m := gcLine.FindSubmatch(line); m != nil {
				mb, _ := strconv.ParseUint(string(m[3]), 10, 64)
				live = max(live, mb<<20)
			}
			continue
		}
		var entry struct {
			Msg       string  `json:"msg"`
			LatencyMS float64 `json:"latency_ms"`
			Inserts   int64   `json:"partials_inserts"`
		}
		if json.Unmarshal(line, &entry) != nil {
			continue
		}
		switch entry.Msg {
		case "window flushed":
			s.Count++
			s.Latency += time.Duration(entry.LatencyMS * float64(time.Millisecond))
		case "sink totals":
			s.Inserts = entry.Inserts
		}
	}
	if err := sc.Err(); err != nil {
		return flushStats{}, 0, fmt.Errorf("reading %s: %w", path, err)
	}
	return s, live, nil
}
