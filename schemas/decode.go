package schemas

import (
	"math/bits"
	"strconv"
)

// Decoder decodes and validates event v1 messages. The zero value is ready
// to use. A Decoder is not safe for concurrent use: give each worker its
// own. It keeps scratch buffers between calls, so that decoding a valid
// event does not allocate.
type Decoder struct {
	// MinTS and MaxTS bound ts, in Unix epoch milliseconds: an event is
	// accepted when MinTS <= ts < MaxTS. Zero means the default
	// (DefaultMinTS, 2010-01-01; DefaultMaxTS, 2100-01-01). Callers that
	// know the time set MaxTS to now plus the allowed clock skew.
	MinTS, MaxTS int64

	idBuf, userBuf []byte // ID and User when they hold escapes
	strBuf         []byte // other strings that hold escapes

	// State of the message being decoded.
	minTS, maxTS   int64
	seen, dup, bad uint16 // a bit per field
	tsRange        int8   // why ts is bad: 0 not a range problem, 1 too early, 2 too late
	pii            bool
	syn            syntax
	synAt          int

	// keyAfter[f] is the known field whose key followed that of field f
	// in the last message that had both, keyAfter[numFields] the first
	// known field of a message. Producers write keys in a fixed order, so
	// this predicts the next key (object); a wrong guess only costs time.
	keyAfter [numFields + 1]field
}

// Decode decodes msg into e and validates it against event v1. It returns
// nil or a *RejectError whose Reason is chosen in the order documented on
// Reason. e is overwritten; after an error its content is unspecified.
// e.ID and e.User alias msg or the decoder's buffers: they are valid until
// msg changes or the next call to Decode.
//
// Beyond the table of DESIGN.md, the decoder settles these points:
//   - Keys match exactly (case-sensitive, after unescaping: "\u0069d" is
//     id, "ID" is an unknown field).
//   - Unknown fields are skipped whatever their type, down to 32 levels of
//     nesting, and every string in them is PII-scanned. Repeated unknown
//     keys are not checked: their values are never used.
//   - A repeated known key is duplicate_field:<f>, not "last wins": decoders
//     disagree on which value wins, so the event is ambiguous.
//   - null is a wrong type, not an absent field (bad_value:<f>).
//   - v, ts and n must be integers written without fraction or exponent
//     (1.0 and 1e3 are bad_value); an integer of more than 18 digits is out
//     of range (ts_out_of_range for ts, bad_value for v and n).
//   - id counts Unicode code points, as "chars" and JSON Schema's maxLength
//     do; "" is bad_value:id.
//   - Every string must be valid UTF-8 and every \u escape a valid code
//     point or surrogate pair, known field or not: otherwise the message is
//     malformed_json, because replacing bytes (as encoding/json does) would
//     change ids and tokens silently.
//   - An enum value must match exactly: no case folding, no trimming.
func (d *Decoder) Decode(msg []byte, e *Event) error {
	d.pii = false
	if len(msg) > MaxEventBytes {
		// Not parsed, but its payload may reach the dead-letter topic.
		if rawLooksLikePII(msg) {
			return errPII
		}
		return errTooLarge
	}
	*e = Event{}
	d.seen, d.dup, d.bad, d.tsRange = 0, 0, 0, 0
	d.minTS, d.maxTS = d.MinTS, d.MaxTS
	if d.minTS == 0 {
		d.minTS = DefaultMinTS
	}
	if d.maxTS == 0 {
		d.maxTS = DefaultMaxTS
	}
	if d.object(msg, e) < 0 {
		// The strings before the error were scanned decoded; scan the raw
		// bytes for what comes after it.
		if d.pii || rawLooksLikePII(msg) {
			return errPII
		}
		return &RejectError{ReasonMalformedJSON, "at byte " + strconv.Itoa(d.synAt) + ": " + syntaxText[d.syn]}
	}
	if d.pii {
		return errPII
	}
	return d.verdict(e)
}

// rawLooksLikePII is the PII guard for bytes that were not parsed.
func rawLooksLikePII(msg []byte) bool {
	return LooksLikePII(msg) || rawUserLooksLikePhone(msg)
}

// object parses the message as one JSON object, filling e and the field
// state. It returns a negative number on a syntax error.
func (d *Decoder) object(s []byte, e *Event) int {
	i := skipWS(s, 0)
	if i >= len(s) || s[i] != '{' {
		return d.fail(synNotObject, i)
	}
	i = skipWS(s, i+1)
	if i < len(s) && s[i] == '}' {
		return d.end(s, i+1)
	}
	prev := numFields // the last known field, or the start of the object
	for {
		if i >= len(s) || s[i] != '"' {
			return d.fail(synKey, i)
		}
		// Try the key that followed prev last time first: one masked
		// compare, and no call, which in Go means no spilling of every
		// live register. See keyWord.
		f := d.keyAfter[prev]
		j := i + keyWords[f].n + 2 // after the quotes and the name
		if !keyWords[f].at(s, i+1) {
			if f, j = d.readKey(s, i+1); j < 0 {
				return j
			}
			if f != noField {
				d.keyAfter[prev] = f
			}
		}
		if f != noField {
			prev = f
		}
		// Compact JSON has no whitespace: test the byte before calling skipWS.
		if i = j; i >= len(s) || s[i] != ':' {
			if i = skipWS(s, i); i >= len(s) || s[i] != ':' {
				return d.fail(synColon, i)
			}
		}
		if i = skipWS(s, i+1); i >= len(s) {
			return d.fail(synEOF, i)
		}
		if f == noField {
			i = d.skipValue(s, i, 1)
		} else {
			i = d.value(s, i, f, e)
		}
		if i < 0 {
			return i
		}
		if i >= len(s) || s[i] != ',' {
			if i = skipWS(s, i); i >= len(s) {
				return d.fail(synEOF, i)
			}
			if s[i] == '}' {
				return d.end(s, i+1)
			}
			if s[i] != ',' {
				return d.fail(synComma, i)
			}
		}
		i = skipWS(s, i+1)
	}
}

// end checks that only whitespace follows the object.
func (d *Decoder) end(s []byte, i int) int {
	if i = skipWS(s, i); i != len(s) {
		return d.fail(synTrailing, i)
	}
	return i
}

// value reads the value of known field f at s[i]. A value of the wrong
// JSON type marks the field bad and is skipped like an unknown one (its
// strings still go through the PII scan).
func (d *Decoder) value(s []byte, i int, f field, e *Event) int {
	bit := uint16(1) << f
	d.dup |= d.seen & bit
	d.seen |= bit
	c := s[i]
	if f == fieldV || f == fieldTS || f == fieldN {
		if c != '-' && c-'0' >= 10 {
			d.bad |= bit
			return d.skipValue(s, i, 1)
		}
		v, kind, j := d.readNumber(s, i)
		if j >= 0 && !d.setNumber(f, v, kind, e) {
			d.bad |= bit
		}
		return j
	}
	if c != '"' {
		d.bad |= bit
		return d.skipValue(s, i, 1)
	}
	switch f {
	case fieldID:
		v, j := d.readString(s, i+1, &d.idBuf)
		if j >= 0 {
			e.ID = v
			d.scanPII(v)
			if !validID(v) {
				d.bad |= bit
			}
		}
		return j
	case fieldUser:
		v, j := d.readString(s, i+1, &d.userBuf)
		if j >= 0 {
			e.User = v
			valid, pii := checkUser(v)
			d.pii = d.pii || pii
			if !valid {
				d.bad |= bit
			}
		}
		return j
	}
	if w, n, j := readShort(s, i+1); j >= 0 && setWord(f, w, n, e) {
		return j
	}
	// Longer than 8 bytes, escaped, or invalid: the slow path decides.
	v, j := d.readString(s, i+1, &d.strBuf)
	if j >= 0 && !setString(f, v, e) {
		d.bad |= bit
		d.scanPII(v)
	}
	return j
}

// setNumber stores a number field and reports whether it is valid.
func (d *Decoder) setNumber(f field, v int64, kind numKind, e *Event) bool {
	switch f {
	case fieldV:
		return kind == numInt && v == Version
	case fieldN:
		e.N = int32(v)
		return kind == numInt && v >= 0 && v <= MaxUnits
	}
	e.TS = v
	switch {
	case kind == numFrac:
		return false
	case v < d.minTS:
		d.tsRange = 1
		return false
	case v >= d.maxTS:
		d.tsRange = 2
		return false
	}
	d.tsRange = 0
	return true
}

// setString stores an enum or code field and reports whether it is valid.
// It is setWord for values longer than 8 bytes or holding escapes.
func setString(f field, v []byte, e *Event) bool {
	var ok bool
	switch f {
	case fieldKind:
		e.Kind, ok = ParseKind(v)
	case fieldPeer:
		e.Peer, ok = ParsePeer(v)
	case fieldCategory:
		e.Category, ok = CategoryNone, len(v) == 0
		if !ok {
			e.Category, ok = ParseCategory(v)
		}
	case fieldMedia:
		e.Media, ok = ParseMedia(v)
	case fieldCountry:
		e.Country, ok = parseCountry(v)
	case fieldLang:
		e.Lang, ok = parseLang(v)
	case fieldAge:
		e.Age, ok = ParseAgeBand(v)
	case fieldPlatform:
		e.Platform, ok = ParsePlatform(v)
	}
	return ok
}

// verdict picks the reason for a syntactically valid, PII-free message:
// duplicates first, then the first field in field order with a problem.
func (d *Decoder) verdict(e *Event) error {
	if d.dup != 0 {
		return errDuplicate[bits.TrailingZeros16(d.dup)]
	}
	missing := requiredFields &^ d.seen
	bad := d.bad
	// The category rule depends on kind and peer; when either is missing or
	// bad, its own reason comes first in field order.
	if bad&(1<<fieldCategory) == 0 {
		needs := e.NeedsCategory()
		switch {
		case needs && e.Category == CategoryNone:
			missing |= 1 << fieldCategory
		case !needs && e.Category != CategoryNone:
			bad |= 1 << fieldCategory
		}
	}
	problems := missing | bad
	if problems == 0 {
		return nil
	}
	f := bits.TrailingZeros16(problems)
	switch {
	case missing&(1<<f) != 0:
		return errMissing[f]
	case f == int(fieldTS) && d.tsRange != 0:
		return errTSRange[d.tsRange-1]
	}
	return errBad[f]
}
