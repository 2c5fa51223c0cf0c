package main

import (
	"io"
	"slices"
	"strings"
	"testing"
)

// parseBenchFlags parses args after the flags every run needs and
// --flink off (its project is not where the test runs).
func parseBenchFlags(t *testing.T, args ...string) (options, error) {
	t.Helper()
	return parseFlags(append([]string{"--kafka", "127.0.0.1:1", "--clickhouse", "127.0.0.1:2", "--flink", "off"}, args...), io.Discard)
}

func TestOptionsMemUsers(t *testing.T) {
	for _, tc := range []struct {
		arg  string
		want []int
		err  string // "" for none
	}{
		{"", []int{1_000_000, 5_000_000, 10_000_000}, ""},
		{"none", []int{}, ""},
		{"2000,10000", []int{2000, 10000}, ""},
		{"1,2,3,4", []int{1, 2, 3, 4}, ""},
		{"5000", nil, "--mem-users: [5000], want two or more rising"},
		{"5000,5000", nil, "--mem-users: [5000 5000], want two or more rising"},
		{"1000,5000,3000", nil, "--mem-users: [1000 5000 3000], want two or more rising"},
		{"0,10", nil, "--mem-users: [0 10], want two or more rising"},
		{"1k,2k", nil, `"1k,2k" is not a list of integers`},
	} {
		var args []string
		if tc.arg != "" {
			args = []string{"--mem-users", tc.arg}
		}
		o, err := parseBenchFlags(t, args...)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("--mem-users %q: error %v, want one containing %q", tc.arg, err, tc.err)
		case tc.err == "" && err != nil:
			t.Errorf("--mem-users %q: %v", tc.arg, err)
		case tc.err == "" && !slices.Equal(o.MemUsers, tc.want):
			t.Errorf("--mem-users %q = %v, want %v", tc.arg, o.MemUsers, tc.want)
		}
	}
}

func TestOptionsCurvePartitions(t *testing.T) {
	for _, tc := range []struct {
		arg  string
		want []int
		err  string // "" for none
	}{
		{"", []int{1, 2, 4, 8, 16}, ""},
		{"none", []int{}, ""},
		{"8", []int{8}, ""},
		{"1,3,32", []int{1, 3, 32}, ""},
		{"0,1", nil, "--curve-partitions: [0 1], want rising partition counts of at least 1"},
		{"4,2", nil, "--curve-partitions: [4 2], want rising partition counts of at least 1"},
		{"2,2", nil, "--curve-partitions: [2 2], want rising partition counts of at least 1"},
		{"1,two", nil, `"1,two" is not a list of integers`},
	} {
		var args []string
		if tc.arg != "" {
			args = []string{"--curve-partitions", tc.arg}
		}
		o, err := parseBenchFlags(t, args...)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("--curve-partitions %q: error %v, want one containing %q", tc.arg, err, tc.err)
		case tc.err == "" && err != nil:
			t.Errorf("--curve-partitions %q: %v", tc.arg, err)
		case tc.err == "" && !slices.Equal(o.CurvePartitions, tc.want):
			t.Errorf("--curve-partitions %q = %v, want %v", tc.arg, o.CurvePartitions, tc.want)
		}
	}
}

func TestOptionsPlot(t *testing.T) {
	o, err := parseBenchFlags(t)
	if err != nil || o.Plot != "BENCHMARKS-curves.png" {
		t.Errorf("default --plot = %q (%v), want BENCHMARKS-curves.png", o.Plot, err)
	}
	if o, err := parseBenchFlags(t, "--plot", "none"); err != nil || o.Plot != "none" {
		t.Errorf("--plot none = %q (%v)", o.Plot, err)
	}
	missing := t.TempDir() + "/gone/curves.png"
	if _, err := parseBenchFlags(t, "--plot", missing); err == nil || !strings.Contains(err.Error(), "--plot "+missing+": its directory") {
		t.Errorf("--plot into a missing directory: %v, want an error naming the flag", err)
	}
}
