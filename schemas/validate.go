package schemas

import "unicode/utf8"

// The value rules of event v1 that are not plain enum lookups.

// The default accepted range of ts, [DefaultMinTS, DefaultMaxTS) in Unix
// epoch milliseconds: 2010-01-01T00:00:00Z up to 2100-01-01T00:00:00Z. An
// event outside it comes from a broken clock, not from a user.
const (
	DefaultMinTS int64 = 1262304000000
	DefaultMaxTS int64 = 4102444800000
)

// Limits of the string fields. MaxIDLen counts Unicode code points, as
// "chars" in the contract and maxLength in JSON Schema do, so an id is at
// most 4×64 bytes; the user token is ASCII, so its bytes are its chars.
const (
	MaxIDLen      = 64
	MinUserLen    = 16
	MaxUserLen    = 128
	maxIDLenBytes = MaxIDLen * utf8.UTFMax
)

// validID reports whether id (valid UTF-8) has 1 to 64 code points.
func validID(id []byte) bool {
	if len(id) <= MaxIDLen {
		return len(id) > 0 // no more bytes than the limit: no more runes
	}
	return len(id) <= maxIDLenBytes && utf8.RuneCount(id) <= MaxIDLen
}

// Byte classes of user tokens, as bits so one OR per byte summarises a token.
const (
	ucLetter = 1 << iota
	ucDigit
	ucSep // '-' or '_'
	ucOther
)

var userClass = func() (t [256]uint8) {
	for c := range t {
		switch b := byte(c); {
		case isLetter(b):
			t[c] = ucLetter
		case isDigit(b):
			t[c] = ucDigit
		case b == '-' || b == '_':
			t[c] = ucSep
		default:
			t[c] = ucOther
		}
	}
	return t
}()

// checkUser reports whether u is a well-formed token (16–128 bytes of
// [A-Za-z0-9_-]) and whether it is suspected PII.
func checkUser(u []byte) (valid, pii bool) {
	var classes uint8
	for _, c := range u {
		classes |= userClass[c]
	}
	valid = len(u) >= MinUserLen && len(u) <= MaxUserLen && classes&ucOther == 0
	if valid && classes&ucLetter != 0 {
		// A well-formed token with a letter cannot match any rule of
		// LooksLikePII (TestWellFormedUserNeverPII): skip the scan.
		return true, false
	}
	return valid, userLooksLikePhone(u) || LooksLikePII(u)
}

// parseCountry and parseLang read a two-letter code of the tables in
// iso_codes.go.
func parseCountry(v []byte) (Country, bool) {
	if len(v) != 2 {
		return Country{}, false
	}
	c := Country{v[0], v[1]}
	return c, c.Valid()
}

func parseLang(v []byte) (Lang, bool) {
	if len(v) != 2 {
		return Lang{}, false
	}
	l := Lang{v[0], v[1]}
	return l, l.Valid()
}
