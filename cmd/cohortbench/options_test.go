package main

import (
	"fmt"
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

// checkIntsFlag parses flag arg ("" for no flag) and checks that it fails
// with an error containing wantErr, or sets field to want.
func checkIntsFlag(t *testing.T, flag, arg string, want []int, wantErr string, field func(options) []int) {
	t.Helper()
	var args []string
	if arg != "" {
		args = []string{flag, arg}
	}
	o, err := parseBenchFlags(t, args...)
	switch {
	case wantErr != "" && (err == nil || !strings.Contains(err.Error(), wantErr)):
		t.Errorf("%s %q: error %v, want one containing %q", flag, arg, err, wantErr)
	case wantErr == "" && err != nil:
		t.Errorf("%s %q: %v", flag, arg, err)
	case wantErr == "" && !slices.Equal(field(o), want):
		t.Errorf("%s %q = %v, want %v", flag, arg, field(o), want)
	}
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
		checkIntsFlag(t, "--mem-users", tc.arg, tc.want, tc.err, func(o options) []int { return o.MemUsers })
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
		checkIntsFlag(t, "--curve-partitions", tc.arg, tc.want, tc.err, func(o options) []int { return o.CurvePartitions })
	}
}

func TestOptionsScaleOut(t *testing.T) {
	want := "--scale-out: %s, want rising instance counts from 1 to --partitions (8), or none"
	for _, tc := range []struct {
		arg  string
		want []int
		err  string // "" for none
	}{
		{"", []int{1, 2, 3}, ""},
		{"none", []int{}, ""},
		{"1,8", []int{1, 8}, ""},
		{"1,9", nil, fmt.Sprintf(want, "[1 9]")},
		{"2,1", nil, fmt.Sprintf(want, "[2 1]")},
		{"0,1", nil, fmt.Sprintf(want, "[0 1]")},
		{"3,3", nil, fmt.Sprintf(want, "[3 3]")},
	} {
		checkIntsFlag(t, "--scale-out", tc.arg, tc.want, tc.err, func(o options) []int { return o.ScaleOut })
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
