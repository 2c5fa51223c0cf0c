package main

import (
	"testing"
)

// The cases are what EventDeserializer.java decides for the same lines.
func TestParseEvent(t *testing.T) {
	for _, tc := range []struct {
		line string
		ts   int64
		user string
		ok   bool
	}{
		{`{"v":1,"ts":1793491200000,"user":"u_0123456789abcdef","country":"BR"}`, 1793491200000, "u_0123456789abcdef", true},
		{`{"ts":5,"user":"a","x":{"ts":"nested"}}`, 5, "a", true},
		{`{"ts":5,"user":"a","ts":6}`, 6, "a", true}, // the last of a repeated name
		{`{"ts":5,"user":"a",}`, 0, "", false},       // trailing comma
		{`{"ts":5,"user":"a"`, 0, "", false},         // cut off
		{`{"ts":"5","user":"a"}`, 0, "", false},
		{`{"ts":5.0,"user":"a"}`, 0, "", false},
		{`{"ts":5e3,"user":"a"}`, 0, "", false},
		{`{"ts":99999999999999999999,"user":"a"}`, 0, "", false},
		{`{"ts":null,"user":"a"}`, 0, "", false},
		{`{"ts":5,"user":7}`, 0, "", false},
		{`{"user":"a"}`, 0, "", false},
		{`[1]`, 0, "", false},
		{`{"ts":-5,"user":"a"}`, -5, "a", true},
	} {
		ts, user, ok := parseEvent([]byte(tc.line))
		if ok != tc.ok || (ok && (ts != tc.ts || string(user) != tc.user)) {
			t.Errorf("parseEvent(%s) = %d, %q, %v; want %d, %q, %v", tc.line, ts, user, ok, tc.ts, tc.user, tc.ok)
		}
	}
}

func TestFlinkTruthCells(t *testing.T) {
	const hour = 3600_000
	f := newFlinkTruth(hour, 100*hour, hour)
	for _, line := range []string{
		`{"ts":3600000,"user":"a","country":"BR","lang":"pt","age":"25-34","platform":"ios"}`,
		`{"ts":3600001,"user":"a","country":"BR","lang":"pt","age":"25-34","platform":"ios"}`,
		`{"ts":7199999,"user":"b","country":"BR","lang":"pt","age":"25-34","platform":"ios"}`,
		`{"ts":7200000,"user":"b","country":"BR","lang":"pt","age":"25-34","platform":"ios"}`,
		`{"ts":7200000,"user":"b","country":"DE","lang":"de","age":"18-24","platform":"web"}`,
		`{"ts":1,"user":"c","country":"DE"}`,                // before minTS
		`{"ts":360000000,"user":"c","country":"DE"}`,        // at maxTS
		`{"ts":7200000,"user":"c","country":"DE","lang":"d`, // malformed
	} {
		f.add([]byte(line))
	}
	got := f.cells()
	want := map[cellKey]cellCount{
		{"BR|pt|25-34|ios", hour}:     {Events: 3, Users: 2},
		{"BR|pt|25-34|ios", 2 * hour}: {Events: 1, Users: 1},
		{"DE|de|18-24|web", 2 * hour}: {Events: 1, Users: 1},
	}
	if len(got) != len(want) || f.invalid != 3 {
		t.Fatalf("cells = %v with %d invalid, want %v and 3", got, f.invalid, want)
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("cell %v = %+v, want %+v", k, got[k], w)
		}
	}
}

func TestCheckCells(t *testing.T) {
	a, b, c := cellKey{"a", 0}, cellKey{"b", 0}, cellKey{"c", 0}
	want := map[cellKey]cellCount{a: {Events: 3, Users: 2}, b: {Events: 2, Users: 2}, c: {Events: 1, Users: 1}}
	for _, tc := range []struct {
		name    string
		windows map[cellKey]cellCount
		late    map[cellKey]int64
		want    cellCheck
	}{
		{"exact", map[cellKey]cellCount{a: {3, 2}, b: {2, 2}, c: {1, 1}}, nil, cellCheck{Cells: 3, UsersExact: 3}},
		{"late events make up the difference, users may be fewer", map[cellKey]cellCount{a: {3, 2}, b: {1, 1}}, map[cellKey]int64{b: 1, c: 1},
			cellCheck{Cells: 3, UsersExact: 1}},
		{"a lost event, a user too many, an unknown cell", map[cellKey]cellCount{a: {2, 3}, b: {2, 2}, c: {1, 1}, {"d", 0}: {1, 1}}, nil,
			cellCheck{Cells: 3, EventsWrong: 2, UsersExact: 2, UsersWrong: 1}},
	} {
		if got := checkCells(want, tc.windows, tc.late); got != tc.want {
			t.Errorf("%s: checkCells = %+v, want %+v", tc.name, got, tc.want)
		}
	}
}
