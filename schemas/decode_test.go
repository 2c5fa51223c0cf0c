package schemas

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestDecodeCases(t *testing.T) {
	var d Decoder
	for _, c := range eventCases() {
		t.Run(c.name, func(t *testing.T) {
			var e Event
			err := d.Decode([]byte(c.msg), &e)
			got, isReject := ReasonOf(err)
			if err != nil && !isReject {
				t.Fatalf("Decode error is not a rejection: %v", err)
			}
			if got != c.reason {
				t.Fatalf("Decode reason = %q (%v), want %q\nmsg: %.300s", got, err, c.reason, c.msg)
			}
			if err != nil {
				checkDetail(t, err.(*RejectError), c.msg)
			}
		})
	}
}

// checkDetail asserts that a rejection's Detail quotes nothing from the
// message: not the user token, not the id, not a suspected PII value.
func checkDetail(t *testing.T, re *RejectError, msg string) {
	t.Helper()
	for _, secret := range []string{baseUser, "0190f5a2", "example.com", "98765", "5511987654321", "555 123"} {
		if strings.Contains(msg, secret) && strings.Contains(re.Detail, secret) {
			t.Errorf("Detail %q quotes %q from the message", re.Detail, secret)
		}
	}
	if !strings.HasPrefix(re.Error(), "event rejected: "+string(re.Reason)) {
		t.Errorf("Error() = %q", re.Error())
	}
}

func TestDecodeFillsEvent(t *testing.T) {
	msg := []byte(`{"platform":"ios","age":"18-24","lang":"de","country":"DE","n":42,"media":"video",` +
		`"category":"restaurants","peer":"business","kind":"order_placed","user":"` + baseUser +
		`","ts":1732400000123,"id":"evt-7","v":1,"extra":{"k":[1,2]}}`)
	var d Decoder
	var e Event
	if err := d.Decode(msg, &e); err != nil {
		t.Fatal(err)
	}
	cat, _ := ParseCategory([]byte("restaurants"))
	want := Event{ID: []byte("evt-7"), User: []byte(baseUser), TS: 1732400000123, N: 42, Category: cat,
		Kind: KindOrderPlaced, Peer: PeerBusiness, Media: MediaVideo, Age: Age18to24, Platform: PlatformIOS,
		Country: Country{'D', 'E'}, Lang: Lang{'d', 'e'}}
	if !eventsEqual(&e, &want) {
		t.Fatalf("got %+v\nwant %+v", e, want)
	}
}

func TestDecodeEscapes(t *testing.T) {
	for _, c := range []struct{ raw, want string }{
		{`"a\"b"`, `a"b`},
		{`"\\\/\b\f\n\r\t"`, "\\/\b\f\n\r\t"},
		{`"\u00e9\u00E9"`, "éé"},
		{`"\u20ac"`, "€"},
		{`"\ud83d\ude00"`, "😀"},
		{`"\uD83D\uDE00x"`, "😀x"},
		{`"\u0000"`, "\x00"},
		{`"ид"`, "ид"},
	} {
		var d Decoder
		var e Event
		if err := d.Decode([]byte(ev(set("id", c.raw))), &e); err != nil {
			t.Errorf("id %s: %v", c.raw, err)
			continue
		}
		if string(e.ID) != c.want {
			t.Errorf("id %s = %q, want %q", c.raw, e.ID, c.want)
		}
	}
}

func TestDecodeEveryCode(t *testing.T) {
	var d Decoder
	var e Event
	for _, c := range Countries() {
		if err := d.Decode([]byte(ev(set("country", quote(c.String())))), &e); err != nil || e.Country != c {
			t.Errorf("country %s: %v %v", c, err, e.Country)
		}
	}
	for _, l := range Langs() {
		if err := d.Decode([]byte(ev(set("lang", quote(l.String())))), &e); err != nil || e.Lang != l {
			t.Errorf("lang %s: %v %v", l, err, e.Lang)
		}
	}
	for _, c := range Categories() {
		msg := ev(set("peer", `"business"`), set("category", quote(c.String())))
		if err := d.Decode([]byte(msg), &e); err != nil || e.Category != c {
			t.Errorf("category %s: %v %v", c, err, e.Category)
		}
	}
}

func TestDecodeTSBounds(t *testing.T) {
	d := Decoder{MinTS: 1000, MaxTS: 2000}
	var e Event
	for ts, want := range map[string]Reason{"999": ReasonTSOutOfRange, "1000": "", "1999": "", "2000": ReasonTSOutOfRange} {
		got, _ := ReasonOf(d.Decode([]byte(ev(set("ts", ts))), &e))
		if got != want {
			t.Errorf("ts %s in [1000, 2000): %q, want %q", ts, got, want)
		}
	}
	var errTS *RejectError
	if !errors.As(d.Decode([]byte(ev(set("ts", "2000"))), &e), &errTS) || !strings.Contains(errTS.Detail, "MaxTS") {
		t.Errorf("detail of a late ts: %v", errTS)
	}
}

// TestDecoderReuse checks that buffers reused between calls do not leak
// one event's values into the next.
func TestDecoderReuse(t *testing.T) {
	var d Decoder
	var e1, e2 Event
	m1 := []byte(ev(set("id", `"first\u0021"`), set("user", `"\u0041bcdefghijklmnop"`)))
	m2 := []byte(ev(set("id", `"second"`)))
	if err := d.Decode(m1, &e1); err != nil {
		t.Fatal(err)
	}
	id1 := bytes.Clone(e1.ID)
	if err := d.Decode(m2, &e2); err != nil {
		t.Fatal(err)
	}
	if string(id1) != "first!" || string(e2.ID) != "second" || string(e2.User) != baseUser {
		t.Fatalf("got %q, %q, %q", id1, e2.ID, e2.User)
	}
	if err := d.Decode([]byte(`{}`), &e2); err == nil || e2.ID != nil {
		t.Fatalf("empty object: %v, leftover id %q", err, e2.ID)
	}
}

func TestDecodeAllocs(t *testing.T) {
	var d Decoder
	var e Event
	for _, msg := range []string{benchEvent, benchLarge, benchRejected, ev(set("id", `"a\u00e9"`))} {
		in := []byte(msg)
		if n := testing.AllocsPerRun(100, func() { _ = d.Decode(in, &e) }); n != 0 {
			t.Errorf("%.40s…: %v allocs per Decode, want 0", msg, n)
		}
	}
}

func TestReasonHelpers(t *testing.T) {
	for _, f := range fieldNames {
		if got := MissingField(f); got != Reason("missing_field:"+f) {
			t.Errorf("MissingField(%q) = %q", f, got)
		}
		if got := BadValue(f); got != Reason("bad_value:"+f) {
			t.Errorf("BadValue(%q) = %q", f, got)
		}
		if got := DuplicateField(f); got != Reason("duplicate_field:"+f) {
			t.Errorf("DuplicateField(%q) = %q", f, got)
		}
		if n := testing.AllocsPerRun(10, func() { _ = MissingField(f); _ = BadValue(f) }); n != 0 {
			t.Errorf("MissingField/BadValue(%q) allocate", f)
		}
	}
	if got := BadValue("other"); got != "bad_value:other" {
		t.Errorf("BadValue(other) = %q", got)
	}
	wrapped := fmt.Errorf("decoding offset 7: %w", errBad[fieldKind])
	if r, ok := ReasonOf(wrapped); !ok || r != "bad_value:kind" {
		t.Errorf("ReasonOf(wrapped) = %q, %v", r, ok)
	}
	if _, ok := ReasonOf(errors.New("x")); ok {
		t.Error("ReasonOf(plain error) = true")
	}
	if _, ok := ReasonOf(nil); ok {
		t.Error("ReasonOf(nil) = true")
	}
}

// TestReasonsDocumented checks that every reason the decoder can return is
// covered by Reasons() and by the table test.
func TestReasonsDocumented(t *testing.T) {
	infos := Reasons()
	covered := func(r Reason) bool {
		for _, in := range infos {
			if in.Code == r || strings.HasSuffix(string(in.Code), ":") && strings.HasPrefix(string(r), string(in.Code)) {
				return true
			}
		}
		return false
	}
	seen := map[Reason]bool{}
	for _, c := range eventCases() {
		if c.reason != "" {
			seen[c.reason] = true
			if !covered(c.reason) {
				t.Errorf("reason %q is not in Reasons()", c.reason)
			}
		}
	}
	for _, in := range infos {
		if in.Description == "" {
			t.Errorf("%q has no description", in.Code)
		}
		if strings.HasSuffix(string(in.Code), ":") {
			for _, f := range fieldNames {
				if r := Reason(string(in.Code) + f); !seen[r] {
					t.Errorf("no test case for %q", r)
				}
			}
		} else if !seen[in.Code] && in.Code != ReasonKeyMismatch { // the pipeline's, tested there
			t.Errorf("no test case for %q", in.Code)
		}
	}
}

func eventsEqual(a, b *Event) bool {
	return bytes.Equal(a.ID, b.ID) && bytes.Equal(a.User, b.User) && a.TS == b.TS && a.N == b.N &&
		a.Category == b.Category && a.Kind == b.Kind && a.Peer == b.Peer && a.Media == b.Media &&
		a.Age == b.Age && a.Platform == b.Platform && a.Country == b.Country && a.Lang == b.Lang
}
