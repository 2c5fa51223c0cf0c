package schemas

import (
	"encoding/binary"
	"math/bits"
	"unicode/utf8"
)

// Reading JSON strings: the fast path finds the closing quote 8 bytes at a
// time and returns a sub-slice of the message; escapes are decoded into a
// reusable buffer.

// plainByte marks bytes that a string can hold as they are: not '"', '\\',
// a control character, or the start of a multi-byte UTF-8 sequence.
var plainByte = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// specialMask has the high bit set in the lowest byte of w (little endian)
// that is not plain (see plainByte), and possibly in higher ones: the
// classic SWAR zero-byte test on w^'"', w^'\\' and w-0x20 is exact for the
// lowest flagged byte, which is all the callers use.
func specialMask(w uint64) uint64 {
	q := w ^ (lsb * '"')
	b := w ^ (lsb * '\\')
	m := (q - lsb) &^ q
	m |= (b - lsb) &^ b
	m |= (w - lsb*0x20) &^ w
	return (m | w) & msb
}

// readString reads the string whose opening quote is at s[i-1]. It returns
// the decoded value and the position after the closing quote. The value
// aliases s when the string has no escape, else *buf.
func (d *Decoder) readString(s []byte, i int, buf *[]byte) ([]byte, int) {
	start := i
	for {
		// Find the next byte that is not plain, 8 bytes at a time.
		if i+8 <= len(s) {
			m := specialMask(binary.LittleEndian.Uint64(s[i:]))
			if m == 0 {
				i += 8
				continue
			}
			i += bits.TrailingZeros64(m) >> 3
		} else {
			for i < len(s) && plainByte[s[i]] {
				i++
			}
			if i >= len(s) {
				return nil, d.fail(synEOF, i)
			}
		}
		switch c := s[i]; {
		case c == '"':
			return s[start:i], i + 1
		case c == '\\':
			return d.readEscaped(s, start, i, buf)
		case c < 0x20:
			return nil, d.fail(synControl, i)
		}
		n := validRune(s[i:])
		if n == 0 {
			return nil, d.fail(synUTF8, i)
		}
		i += n
	}
}

// readShort reads the string whose opening quote is at s[i-1] as one word
// when it is at most 8 bytes long and 9 bytes of s remain: it returns the
// bytes before the first '"', packed little endian, their count and the
// position after that quote; otherwise a negative position. It does not
// look for escapes or invalid bytes: callers only trust a word and length
// that equal those of a known key or enum name (which has none; the length
// check matters because NUL bytes pack like the zero padding) and otherwise
// read the string again with readString. Keys and most enum values are
// this short.
func readShort(s []byte, i int) (w uint64, n int, next int) {
	if i+9 > len(s) {
		return 0, 0, -1
	}
	w = binary.LittleEndian.Uint64(s[i:])
	q := w ^ (lsb * '"')
	if m := (q - lsb) &^ q & msb; m != 0 {
		// The zero-byte test is exact for the lowest flagged byte.
		tz := bits.TrailingZeros64(m) &^ 7
		return w & (1<<tz - 1), tz >> 3, i + tz>>3 + 1
	}
	if s[i+8] == '"' {
		return w, 8, i + 9
	}
	return 0, 0, -1
}

// readKey reads the object key whose opening quote is at s[i-1] and looks
// up its field; an unknown key goes through the PII scan. Decoder.object
// tries the likely key itself first (keyWord.at).
func (d *Decoder) readKey(s []byte, i int) (field, int) {
	// Keys of known fields are at most 8 bytes, so most keys take the
	// readShort path.
	if w, n, j := readShort(s, i); j >= 0 {
		// The length check rejects keys that pad a name with NUL bytes.
		if f := fieldOfWord(w); f != noField && len(fieldNames[f]) == n {
			return f, j
		}
	}
	k, j := d.readString(s, i, &d.strBuf)
	if j < 0 {
		return noField, j
	}
	f := lookupField(k)
	if f == noField {
		d.scanPII(k)
	}
	return f, j
}

// validRune returns the length of the valid UTF-8 sequence at the start of
// s, or 0. utf8.DecodeRune rejects overlong forms and encoded surrogates.
func validRune(s []byte) int {
	r, n := utf8.DecodeRune(s)
	if r == utf8.RuneError && n <= 1 {
		return 0
	}
	return n
}

// readEscaped continues readString from the first backslash at s[i],
// decoding into *buf.
func (d *Decoder) readEscaped(s []byte, start, i int, buf *[]byte) ([]byte, int) {
	out := append((*buf)[:0], s[start:i]...)
	for i < len(s) {
		c := s[i]
		switch {
		case plainByte[c]:
			out = append(out, c)
			i++
			continue
		case c == '"':
			*buf = out
			return out, i + 1
		case c < 0x20:
			return nil, d.fail(synControl, i)
		case c >= utf8.RuneSelf:
			n := validRune(s[i:])
			if n == 0 {
				return nil, d.fail(synUTF8, i)
			}
			out = append(out, s[i:i+n]...)
			i += n
			continue
		}
		// A backslash.
		if i+1 >= len(s) {
			return nil, d.fail(synEOF, i+1)
		}
		switch e := s[i+1]; e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, n := readUnicodeEscape(s[i:])
			if n <= 0 {
				return nil, d.fail(syntax(-n), i)
			}
			out = utf8.AppendRune(out, r)
			i += n
			continue
		default:
			return nil, d.fail(synEscape, i)
		}
		i += 2
	}
	return nil, d.fail(synEOF, i)
}

// readUnicodeEscape decodes \uXXXX, or a surrogate pair \uD8xx\uDCxx, at the
// start of s. It returns the rune and the bytes consumed, or 0 minus the
// syntax error. A lone surrogate is an error: it has no UTF-8 form, and
// replacing it with U+FFFD (as encoding/json does) would change the value.
func readUnicodeEscape(s []byte) (rune, int) {
	r := hex4(s, 2)
	if r < 0 {
		return 0, -int(synEscape)
	}
	switch {
	case r < 0xD800 || r > 0xDFFF:
		return r, 6
	case r >= 0xDC00:
		return 0, -int(synSurrogate)
	}
	if len(s) < 12 || s[6] != '\\' || s[7] != 'u' {
		return 0, -int(synSurrogate)
	}
	lo := hex4(s, 8)
	if lo < 0xDC00 || lo > 0xDFFF {
		return 0, -int(synSurrogate)
	}
	return 0x10000 + (r-0xD800)<<10 + (lo - 0xDC00), 12
}

// hex4 parses the 4 hex digits at s[i:], or returns -1.
func hex4(s []byte, i int) rune {
	if i+4 > len(s) {
		return -1
	}
	var r rune
	for _, c := range s[i : i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}
