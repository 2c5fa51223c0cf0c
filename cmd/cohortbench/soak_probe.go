package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// soakSample is one reading of the cohortline process under soak.
type soakSample struct {
	At         time.Duration // since the soak began
	RSS        uint64        // VmRSS
	Heap       uint64        // go_memstats_heap_inuse_bytes
	Goroutines uint64        // go_goroutines
	OpenFiles  uint64        // entries of /proc/PID/fd
	// Lag is the topic's end offsets minus the group's committed offsets,
	// over every partition: what a restart would read again. It includes
	// the open windows (commits follow the oldest open window's first
	// offset), so it is a sawtooth of about one window of messages.
	Lag uint64
	// FetchLag is cohortline_lag_messages summed over partitions: the
	// high-water mark minus the offset after the last fetch.
	FetchLag uint64
}

// soakProbe reads a soak's process and its group.
type soakProbe struct {
	pid          int
	metrics      string // http://host:port/metrics
	kafka        *kafkaAdmin
	group, topic string
	client       *http.Client
}

// take reads every quantity once; any read that fails fails the sample
// (a process that cannot be read is a soak that failed).
func (p *soakProbe) take(ctx context.Context, at time.Duration) (soakSample, error) {
	s := soakSample{At: at}
	mem, err := procMem(p.pid)
	if err != nil {
		return s, err
	}
	s.RSS = mem.RSS
	if s.OpenFiles, err = openFiles(p.pid); err != nil {
		return s, err
	}
	m, err := p.scrape(ctx)
	if err != nil {
		return s, err
	}
	for _, want := range []struct {
		name string
		dst  *uint64
	}{{"go_memstats_heap_inuse_bytes", &s.Heap}, {"go_goroutines", &s.Goroutines}, {"cohortline_lag_messages", &s.FetchLag}} {
		v, ok := m[want.name]
		if !ok && want.name != "cohortline_lag_messages" { // absent until a partition is assigned
			return s, fmt.Errorf("reading %s: no %s", p.metrics, want.name)
		}
		*want.dst = uint64(v)
	}
	if s.Lag, err = p.committedLag(ctx); err != nil {
		return s, err
	}
	return s, nil
}

// openFiles counts the process's file descriptors.
func openFiles(pid int) (uint64, error) {
	entries, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return 0, fmt.Errorf("counting the open files of pid %d: %w", pid, err)
	}
	return uint64(len(entries)), nil
}

// scrape reads /metrics and sums every metric's samples over their labels.
func (p *soakProbe) scrape(ctx context.Context) (map[string]float64, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.metrics, nil)
	if err != nil {
		return nil, err
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", p.metrics, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("reading %s: %s", p.metrics, resp.Status)
	}
	m, err := sumMetrics(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", p.metrics, err)
	}
	return m, nil
}

// sumMetrics reads the Prometheus text format: name{labels} value
// [timestamp] per line, comments skipped; samples of one name add up.
func sumMetrics(r io.Reader) (map[string]float64, error) {
	out := map[string]float64{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		end := bytes.IndexAny(line, "{ ")
		if end < 0 {
			continue
		}
		name := string(line[:end])
		rest := line[end:]
		if rest[0] == '{' {
			close := bytes.LastIndexByte(rest, '}')
			if close < 0 {
				continue
			}
			rest = rest[close+1:]
		}
		fields := strings.Fields(string(rest))
		if len(fields) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			return nil, fmt.Errorf("metric %s: %w", name, err)
		}
		out[name] += v
	}
	return out, sc.Err()
}

// committedLag is the topic's end offsets minus the group's committed
// offsets; a partition the group has not committed yet counts from its
// first offset.
func (p *soakProbe) committedLag(ctx context.Context) (uint64, error) {
	ranges, err := p.kafka.topicRanges(ctx, p.topic)
	if err != nil {
		return 0, err
	}
	committed, err := p.kafka.committed(ctx, p.group, p.topic, ranges)
	if err != nil {
		return 0, err
	}
	var lag uint64
	for _, r := range ranges {
		from := r.First
		if c, ok := committed[r.Partition]; ok && c >= 0 {
			from = max(c, r.First)
		}
		lag += uint64(max(r.End-from, 0))
	}
	return lag, nil
}
