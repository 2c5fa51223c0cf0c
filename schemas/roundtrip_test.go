package schemas

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// randomEvent returns a valid event with random values. Ids mix ASCII,
// multi-byte runes and bytes the encoder must escape; they avoid the
// separators of phone tokens and '@' so that they never look like PII.
func randomEvent(r *rand.Rand) Event {
	const idRunes = "abcdefXYZ0123456789_\"\\\n\t\x00\x1f/é€😀ид"
	const userBytes = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"
	runes := []rune(idRunes)
	var id strings.Builder
	id.WriteString("e")
	for n := r.IntN(MaxIDLen); n > 0; n-- {
		id.WriteRune(runes[r.IntN(len(runes))])
	}
	user := make([]byte, MinUserLen+r.IntN(MaxUserLen-MinUserLen+1))
	for i := range user {
		user[i] = userBytes[r.IntN(len(userBytes))]
	}
	user[r.IntN(len(user))] = 'q' // a letter: a token of digits only is PII
	countries, langs := Countries(), Langs()
	e := Event{
		ID:       []byte(id.String()),
		User:     user,
		TS:       DefaultMinTS + r.Int64N(DefaultMaxTS-DefaultMinTS),
		N:        int32(r.IntN(MaxUnits + 1)),
		Kind:     Kind(r.IntN(int(NumKinds))),
		Peer:     Peer(r.IntN(int(NumPeers))),
		Media:    Media(r.IntN(int(NumMedia))),
		Age:      AgeBand(r.IntN(int(NumAgeBands))),
		Platform: Platform(r.IntN(int(NumPlatforms))),
		Country:  countries[r.IntN(len(countries))],
		Lang:     langs[r.IntN(len(langs))],
	}
	if e.NeedsCategory() {
		e.Category = Category(1 + r.IntN(NumCategories))
	}
	return e
}

func TestAppendJSONRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	var d Decoder
	var buf []byte
	for i := range 20000 {
		want := randomEvent(r)
		buf = AppendJSON(buf[:0], &want)
		var got Event
		if err := d.Decode(buf, &got); err != nil {
			t.Fatalf("event %d: Decode(%s): %v", i, buf, err)
		}
		if !eventsEqual(&got, &want) {
			t.Fatalf("event %d: round trip of %s\n got %+v\nwant %+v", i, buf, got, want)
		}
	}
}

// TestAppendJSONInvalidUTF8 documents that the encoder replaces invalid
// UTF-8 (which Decode never produces) with U+FFFD.
func TestAppendJSONInvalidUTF8(t *testing.T) {
	e := Event{ID: []byte("a\xffb")}
	if got := string(AppendJSON(nil, &e)); !strings.Contains(got, `"id":"a\ufffdb"`) {
		t.Fatalf("AppendJSON = %s", got)
	}
}

// AppendJSONString escapes as AppendJSON does, but leaves invalid UTF-8 for
// the decoder to reject instead of repairing it.
func TestAppendJSONString(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 5))
	for range 2000 {
		e := randomEvent(r)
		line := string(AppendJSON(nil, &e))
		if id := string(AppendJSONString(nil, e.ID)); !strings.Contains(line, `"id":`+id+`,`) {
			t.Fatalf("AppendJSONString(%q) = %s, not the id of %s", e.ID, id, line)
		}
	}
	msg := []byte(`{"v":1,"id":` + string(AppendJSONString(nil, []byte("a\xffb"))) + `}`)
	var d Decoder
	var e Event
	if reason, _ := ReasonOf(d.Decode(msg, &e)); reason != ReasonMalformedJSON {
		t.Errorf("Decode(%q) rejected as %q, want %s", msg, reason, ReasonMalformedJSON)
	}
}
