package schemas

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzDecode checks that Decode never panics, never accepts what is not
// JSON, agrees with encoding/json on what the accepted fields contain, and
// that a valid event survives AppendJSON and a second Decode unchanged,
// and that a decoder that has seen another message decodes the same.
func FuzzDecode(f *testing.F) {
	for _, c := range eventCases() {
		if len(c.msg) <= 4096 {
			f.Add([]byte(c.msg))
		}
	}
	f.Add([]byte(benchEvent))
	f.Add([]byte(benchLarge))
	for _, msg := range keyOrderCases() {
		f.Add([]byte(msg))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		var d Decoder
		var e Event
		orig := bytes.Clone(msg)
		err := d.Decode(msg, &e)
		if !bytes.Equal(msg, orig) {
			t.Fatal("Decode modified its input")
		}
		// What a decoder learnt about key order must not change a result.
		var trained Decoder
		var te Event
		_ = trained.Decode([]byte(benchEvent), &te)
		if terr := trained.Decode(msg, &te); !sameResult(err, terr, &e, &te) {
			t.Fatalf("a trained decoder disagrees: %v %+v, fresh: %v %+v", terr, te, err, e)
		}
		reason, isReject := ReasonOf(err)
		if err != nil && !isReject {
			t.Fatalf("Decode returned a non-rejection error: %v", err)
		}
		if err == nil {
			checkAccepted(t, msg, &e)
			return
		}
		if reason == ReasonMalformedJSON && jsonShouldParse(msg) {
			t.Fatalf("malformed_json (%v) for JSON that encoding/json accepts: %q", err, msg)
		}
		var re *RejectError
		errors.As(err, &re)
		if reason == ReasonPIISuspected && len(re.Detail) > 0 && bytes.Contains(msg, []byte(re.Detail)) {
			t.Fatalf("Detail %q quotes the message", re.Detail)
		}
	})
}

// checkAccepted runs the oracles on an accepted message.
func checkAccepted(t *testing.T, msg []byte, e *Event) {
	t.Helper()
	if !json.Valid(msg) {
		t.Fatalf("accepted invalid JSON: %q", msg)
	}
	// The fields, as encoding/json reads them (exact key match).
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(msg, &raw); err != nil {
		t.Fatalf("encoding/json: %v", err)
	}
	var id, user, kind string
	if json.Unmarshal(raw["id"], &id) != nil || json.Unmarshal(raw["user"], &user) != nil || json.Unmarshal(raw["kind"], &kind) != nil {
		t.Fatalf("encoding/json cannot read id/user/kind of accepted %q", msg)
	}
	if id != string(e.ID) || user != string(e.User) || kind != e.Kind.String() {
		t.Fatalf("id/user/kind = %q/%q/%q, encoding/json reads %q/%q/%q", e.ID, e.User, e.Kind, id, user, kind)
	}
	if !e.Country.Valid() || !e.Lang.Valid() || e.NeedsCategory() != (e.Category != CategoryNone) {
		t.Fatalf("accepted an event that breaks a rule: %+v", e)
	}
	// Round trip through the encoder.
	enc := AppendJSON(nil, e)
	var d2 Decoder
	var e2 Event
	if err := d2.Decode(enc, &e2); err != nil {
		t.Fatalf("re-decoding %s: %v", enc, err)
	}
	if !eventsEqual(e, &e2) {
		t.Fatalf("round trip changed the event:\n%+v\n%+v", *e, e2)
	}
}

var loneSurrogate = regexp.MustCompile(`(?i)\\u[d][89a-f]`)

// jsonShouldParse reports whether msg is a JSON object that Decode must
// parse: valid for encoding/json, valid UTF-8, no surrogate escapes (pairs
// are fine but telling them from lone ones needs a decoder), nesting within
// maxDepth.
func jsonShouldParse(msg []byte) bool {
	if !json.Valid(msg) || !utf8.Valid(msg) || loneSurrogate.Match(msg) {
		return false
	}
	if t := bytes.TrimLeft(msg, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(msg))
	depth := 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return true
		}
		if err != nil {
			return false
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			if depth++; depth > maxDepth {
				return false
			}
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
	}
}

func TestJSONShouldParseOracle(t *testing.T) {
	// The fuzz oracle itself: deep nesting and surrogates are excluded.
	if jsonShouldParse([]byte(`{"a":` + strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth) + `}`)) {
		t.Error("too deep accepted")
	}
	if !jsonShouldParse([]byte(ev())) {
		t.Error("base event rejected")
	}
}
