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
