package schemas

import (
	"errors"
	"strings"
	"testing"
)

// keyOrderCases are messages whose keys the decoder's key prediction
// (Decoder.keyAfter) gets wrong, or nearly right, after the base event has
// trained it: other orders, keys that start like the predicted name, keys
// spelled with escapes, whitespace, duplicates, and messages that end
// inside or right after a key.
func keyOrderCases() []string {
	base := ev()
	return []string{
		base,
		reverseOrder(base),
		ev(del("id"), rawKey(`"idx"`, `"evt-1"`), rawKey(`"id"`, `"evt-2"`)),
		strings.Replace(base, `"id":`, `"i":`, 1),
		strings.Replace(base, `"id":`, `"i\u0064":`, 1),
		strings.Replace(base, `"v":`, `"v\u0000":`, 1),
		strings.Replace(base, `"v":`, "\"v\x00\":", 1),
		strings.Replace(base, `"ts":`, `"ts ":`, 1),
		strings.Replace(base, `"ts":`, `"ts" :`, 1),
		strings.Replace(base, `"kind":`, `"kinds":`, 1),
		strings.Replace(base, `"platform":`, `"platforms":`, 1),
		strings.Replace(base, `"platform":`, `"platfor":`, 1),
		strings.Replace(base, `"category":`, `"Category":`, 1),
		strings.Replace(base, `,"kind":`, `,"kind":"call","kind":`, 1),
		ev(set("peer", `"business"`), set("category", `"grocery"`)),
		ev(rawKey(`"x"`, `{"v":1,"id":"y"}`), rawKey(`"v"`, `1`)),
		" { \"v\" : 1 , \"id\" : \"e\" }",
		`{"v":1,"id`,
		`{"v":1,"id"`,
		`{"v":1,"id":`,
		`{"v":1,"platform"`,
		`{"v":1,"platform":"ios"}`,
		`{"v"`,
		`{"v`,
		`{"`,
	}
}

// TestDecodeKeyPrediction checks that what the decoder learnt about key
// order never changes a result: every message decodes the same with a
// decoder trained on the previous messages (in both directions) as with a
// fresh one.
func TestDecodeKeyPrediction(t *testing.T) {
	cases := keyOrderCases()
	var forward, backward Decoder
	for round := range 2 {
		for k := range cases {
			for _, c := range []struct {
				d   *Decoder
				msg string
			}{{&forward, cases[k]}, {&backward, cases[len(cases)-1-k]}} {
				var fresh Decoder
				var want, got Event
				wantErr := fresh.Decode([]byte(c.msg), &want)
				gotErr := c.d.Decode([]byte(c.msg), &got)
				if !sameResult(wantErr, gotErr, &want, &got) {
					t.Errorf("round %d: %q\ntrained decoder: %v %+v\nfresh decoder:   %v %+v", round, c.msg, gotErr, got, wantErr, want)
				}
			}
		}
	}
}

// sameResult reports whether two Decode calls gave the same error (reason
// and detail) and, when they accepted, the same event.
func sameResult(err1, err2 error, e1, e2 *Event) bool {
	var r1, r2 *RejectError
	errors.As(err1, &r1)
	errors.As(err2, &r2)
	switch {
	case (err1 == nil) != (err2 == nil):
		return false
	case err1 != nil:
		return *r1 == *r2
	}
	return eventsEqual(e1, e2)
}
