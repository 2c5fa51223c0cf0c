package main

import (
	"slices"
	"testing"
)

// The expected values are what ClickHouse 18.16's visitParamExtractString
// returned for the same lines.
func TestVisitParamString(t *testing.T) {
	for _, tc := range []struct{ line, want string }{
		{`{"v":1,"country":"BR","lang":"pt"}`, "BR"},
		{`{"x":{"country":"BR"}}`, "BR"},  // nested: the first match anywhere
		{`{"country":"B`, ""},             // cut off inside the value
		{`{"country":`, ""},               // cut off after the key
		{`{"country": "BR"}`, ""},         // a space before the value
		{`{"country":7,"lang":"pt"}`, ""}, // not a string
		{`{"country":""}`, ""},
		{`{"lang":"pt"}`, ""},
	} {
		if got := string(visitParamString([]byte(tc.line), "country")); got != tc.want {
			t.Errorf("visitParamString(%s) = %q, want %q", tc.line, got, tc.want)
		}
	}
}

func TestKeyCountsDiff(t *testing.T) {
	k := newKeyCounts()
	for _, line := range []string{
		`{"country":"BR","lang":"pt","age":"25-34","platform":"ios"}`,
		`{"country":"BR","lang":"pt","age":"25-34","platform":"ios"}`,
		`{"country":"DE","lang":"de","age":"18-24","platform":"web"}`,
		`{"cou`,
	} {
		k.add([]byte(line))
	}
	got := map[string]int64{
		"BR|pt|25-34|ios": 3, // one duplicate
		"|||":             0, // the cut-off line lost
		// DE lost
		"XX|xx|65+|web": 2, // a key that should not exist: duplicates
	}
	dup, lost, keys := k.diff(got)
	if dup != 3 || lost != 2 || !slices.Equal(keys, []string{`"DE|de|18-24|web": 1`, `"|||": 1`}) {
		t.Errorf("diff = %d duplicates, %d lost on %q; want 3, 2 on DE and the empty key", dup, lost, keys)
	}
}
