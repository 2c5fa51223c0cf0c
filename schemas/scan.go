package schemas

import "math"

// The JSON lexer of the decoder. Functions take the message and a position
// and return the next position; a negative position means a syntax error,
// recorded in the Decoder (d.syn, d.synAt) so that the hot path returns
// plain ints. Strings are returned as sub-slices of the message when they
// hold no escape, else decoded into a reusable buffer: no allocation either
// way once the buffers have grown.

// syntax is what made a message malformed_json; it only feeds Detail.
type syntax uint8

const (
	synNone syntax = iota
	synEOF
	synNotObject
	synKey
	synColon
	synComma
	synValue
	synControl
	synEscape
	synSurrogate
	synUTF8
	synNumber
	synDepth
	synTrailing
)

var syntaxText = [...]string{
	synNone:      "",
	synEOF:       "unexpected end of message",
	synNotObject: "the message is not a JSON object",
	synKey:       "expected a quoted object key",
	synColon:     "expected ':' after an object key",
	synComma:     "expected ',' or the end of the object or array",
	synValue:     "expected a JSON value",
	synControl:   "control character in a string",
	synEscape:    "invalid escape in a string",
	synSurrogate: "unpaired UTF-16 surrogate escape in a string",
	synUTF8:      "invalid UTF-8 in a string",
	synNumber:    "invalid number",
	synDepth:     "nesting deeper than 32 levels",
	synTrailing:  "data after the JSON object",
}

// maxDepth bounds the nesting of objects and arrays, the event object
// included, so that a hostile message cannot exhaust the stack.
const maxDepth = 32

func (d *Decoder) fail(why syntax, at int) int {
	d.syn, d.synAt = why, at
	return -1
}

// skipWS returns the position of the first non-whitespace byte at or after i.
func skipWS(s []byte, i int) int {
	if i < len(s) && s[i] > ' ' {
		return i // the common case: compact JSON
	}
	for i < len(s) {
		switch s[i] {
		case ' ', '\n', '\r', '\t':
			i++
		default:
			return i
		}
	}
	return i
}

// numKind says what readNumber found.
type numKind uint8

const (
	numInt    numKind = iota // an integer that fits the returned int64
	numBigInt                // an integer of more than 18 digits, saturated
	numFrac                  // a number with a fraction or an exponent
)

// readNumber parses the JSON number at s[i:] and returns its value when it
// is an integer of at most 18 digits (every such integer fits an int64, and
// no field accepts more; longer ones saturate to the int64 limit of their
// sign), what kind of number it is, and the next position.
func (d *Decoder) readNumber(s []byte, i int) (int64, numKind, int) {
	neg := i < len(s) && s[i] == '-'
	if neg {
		i++
	}
	start := i
	var v int64
	for i < len(s) && s[i]-'0' < 10 {
		v = v*10 + int64(s[i]-'0')
		i++
	}
	digits := i - start
	if digits == 0 || (digits > 1 && s[start] == '0') {
		return 0, 0, d.fail(synNumber, start)
	}
	kind := numInt
	if digits > 18 {
		kind, v = numBigInt, math.MaxInt64
	}
	if i < len(s) && s[i] == '.' {
		i++
		j := i
		for i < len(s) && s[i]-'0' < 10 {
			i++
		}
		if i == j {
			return 0, 0, d.fail(synNumber, i)
		}
		kind = numFrac
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		j := i
		for i < len(s) && s[i]-'0' < 10 {
			i++
		}
		if i == j {
			return 0, 0, d.fail(synNumber, i)
		}
		kind = numFrac
	}
	if neg {
		v = -v
	}
	return v, kind, i
}

// skipValue skips the JSON value at s[i] (i < len(s)), checking its syntax
// and running the PII scan over every string in it, keys included.
func (d *Decoder) skipValue(s []byte, i, depth int) int {
	c := s[i]
	switch c {
	case '"':
		v, j := d.readString(s, i+1, &d.strBuf)
		d.scanPII(v)
		return j
	case '{', '[':
		if depth >= maxDepth {
			return d.fail(synDepth, i)
		}
		return d.skipContainer(s, i, depth+1)
	case 't':
		return d.literal(s, i, "true")
	case 'f':
		return d.literal(s, i, "false")
	case 'n':
		return d.literal(s, i, "null")
	}
	if c != '-' && c-'0' >= 10 {
		return d.fail(synValue, i)
	}
	_, _, j := d.readNumber(s, i)
	return j
}

// skipContainer skips the object or array that opens at s[i].
func (d *Decoder) skipContainer(s []byte, i, depth int) int {
	isObject := s[i] == '{'
	closer := byte(']')
	if isObject {
		closer = '}'
	}
	i = skipWS(s, i+1)
	if i < len(s) && s[i] == closer {
		return i + 1
	}
	for {
		if isObject {
			if i >= len(s) || s[i] != '"' {
				return d.fail(synKey, i)
			}
			k, j := d.readString(s, i+1, &d.strBuf)
			if j < 0 {
				return j
			}
			d.scanPII(k)
			if i = skipWS(s, j); i >= len(s) || s[i] != ':' {
				return d.fail(synColon, i)
			}
			i = skipWS(s, i+1)
		}
		if i >= len(s) {
			return d.fail(synEOF, i)
		}
		if i = d.skipValue(s, i, depth); i < 0 {
			return i
		}
		if i = skipWS(s, i); i >= len(s) {
			return d.fail(synEOF, i)
		}
		switch s[i] {
		case ',':
			i = skipWS(s, i+1)
		case closer:
			return i + 1
		default:
			return d.fail(synComma, i)
		}
	}
}

func (d *Decoder) literal(s []byte, i int, lit string) int {
	if len(s)-i < len(lit) || string(s[i:i+len(lit)]) != lit {
		return d.fail(synValue, i)
	}
	return i + len(lit)
}
