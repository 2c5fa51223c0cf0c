package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"time"
)

// flushStats is what a run's log says about its window flushes: each
// partition worker waits for its own flushes (the insert into ClickHouse)
// before it reads on, so their latency is time the partition is not read.
type flushStats struct {
	Count   int
	Latency time.Duration // summed over all flushes
}

// readFlushStats sums the "window flushed" lines of a cohortline run log.
func readFlushStats(path string) (flushStats, error) {
	f, err := os.Open(path)
	if err != nil {
		return flushStats{}, err
	}
	defer f.Close()
	var s flushStats
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		var line struct {
			Msg       string  `json:"msg"`
			LatencyMS float64 `json:"latency_ms"`
		}
		if json.Unmarshal(sc.Bytes(), &line) != nil || line.Msg != "window flushed" {
			continue
		}
		s.Count++
		s.Latency += time.Duration(line.LatencyMS * float64(time.Millisecond))
	}
	if err := sc.Err(); err != nil {
		return flushStats{}, fmt.Errorf("reading %s: %w", path, err)
	}
	return s, nil
}
