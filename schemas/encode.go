package schemas

import (
	"strconv"
	"unicode/utf8"
)

// AppendJSON appends e as one event v1 JSON object (no trailing newline) to
// dst and returns the extended slice. Field order is fixed; the empty
// category is written as "". It does not validate e.
func AppendJSON(dst []byte, e *Event) []byte {
	dst = append(dst, `{"v":1,"id":`...)
	dst = appendJSONString(dst, e.ID, true)
	dst = append(dst, `,"ts":`...)
	dst = strconv.AppendInt(dst, e.TS, 10)
	dst = append(dst, `,"user":`...)
	dst = appendJSONString(dst, e.User, true)
	dst = append(dst, `,"kind":"`...)
	dst = append(dst, e.Kind.String()...)
	dst = append(dst, `","peer":"`...)
	dst = append(dst, e.Peer.String()...)
	dst = append(dst, `","category":"`...)
	dst = append(dst, e.Category.String()...)
	dst = append(dst, `","media":"`...)
	dst = append(dst, e.Media.String()...)
	dst = append(dst, `","n":`...)
	dst = strconv.AppendInt(dst, int64(e.N), 10)
	dst = append(dst, `,"country":"`...)
	dst = append(dst, e.Country[:]...)
	dst = append(dst, `","lang":"`...)
	dst = append(dst, e.Lang[:]...)
	dst = append(dst, `","age":"`...)
	dst = append(dst, e.Age.String()...)
	dst = append(dst, `","platform":"`...)
	dst = append(dst, e.Platform.String()...)
	return append(dst, `"}`...)
}

const hexDigits = "0123456789abcdef"

// AppendJSONString appends s to dst as a JSON string literal, quotes
// included, escaped exactly as AppendJSON escapes ids and tokens: '"', '\\'
// and control bytes are escaped, everything else is copied. Code that turns
// other encodings of events into JSON for Decoder.Decode (pipeline/archive)
// uses it so that the same event gives the same bytes.
//
// Unlike AppendJSON it copies invalid UTF-8 unchanged, so that Decode rejects
// the result as malformed_json, as it would the raw bytes from Kafka, instead
// of accepting an id silently changed to U+FFFD.
func AppendJSONString(dst, s []byte) []byte { return appendJSONString(dst, s, false) }

// appendJSONString writes s as a JSON string. With replaceInvalid, invalid
// UTF-8 becomes U+FFFD, as encoding/json does; without, it is copied.
func appendJSONString(dst, s []byte, replaceInvalid bool) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c < 0x20:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size == 1 && replaceInvalid {
			dst = append(dst, `\ufffd`...)
		} else {
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return append(dst, '"')
}
