package schemas

import (
	"bytes"
	"strings"
)

// LooksLikePII reports whether s contains a token that looks like an e-mail
// address or a phone number. The decoder runs it on every string of a
// message — known and unknown fields, nested values, object keys — after
// unescaping, and on the raw bytes of a message it cannot parse; a hit makes
// the message pii_suspected, which the pipeline dead-letters without its
// payload. The rules favour catching contact data in free text while never
// flagging the usual event-id formats (UUIDs, ULIDs, 16–20 digit snowflake
// ids, "evt-<hex>", hex hashes), dates, times, IP addresses and version
// strings:
//
//   - E-mail: local@domain.tld — at least one character of [A-Za-z0-9._%+-]
//     before the '@', and after it dot-separated labels of [A-Za-z0-9-]
//     ending in a top-level label of at least two letters. "a@b.co" is
//     flagged; "@handle", "user@localhost" and "x@1.2" are not.
//   - Phone token: a run of digits and separators (space . - ( )) that starts
//     with a digit, '(' or '+', is not glued to a word, and has at most 3
//     separators in a row. Glued means a letter, digit or '_' right before or
//     after it, or joined to one by '-' or '.' ("evt-555-123-4567",
//     "v10.0.19045.3803", the digit groups of a UUID): such tokens are parts
//     of identifiers.
//   - International number: a phone token starting with '+' and holding 7 to
//     15 digits ("+5511987654321", "+55 (11) 98765-4321", "+1 555 123 4567").
//   - National number: a phone token without '+' holding 9 to 15 digits in 2
//     to 5 groups, the last group exactly 4 digits, the others 2 to 5 digits
//     (the first may be 1, as in "1-800-555-1234"), and, when a '.' separates
//     groups, every group at least 3 digits. Flagged: "555-123-4567",
//     "(11) 98765-4321", "98765-4321", "020 7946 0958", "555.123.4567". Not
//     flagged: "2024-01-15", "15.01.2024", "1000-2000", "10.0.19045.3803",
//     "192.168.1.1", "3.25.1234", "1234567890123456789". A ZIP+4 code
//     ("12345-6789") is flagged: it is a quasi-identifier too.
//
// Bare JSON numbers are not scanned: a phone number needs '+' or separators
// to be told from a count or an id. The decoder adds one rule for the user
// field: a token made only of digits and separators (space + - . ( ) / _),
// with at least one digit, is suspected too, since a pseudonymous token has
// letters (userLooksLikePhone).
func LooksLikePII(s []byte) bool {
	for i := 0; i < len(s); {
		var prev uint8
		if i > 0 {
			prev = piiFlags[s[i-1]]
		}
		k := nextCandidate(s[i:], prev)
		if k < 0 {
			return false
		}
		i += k
		if s[i] == '@' {
			if emailAt(s, i) {
				return true
			}
			i++
			continue
		}
		if gluedBefore(s, i) {
			i++
			continue
		}
		// Shortcut for hex ids: digits glued to a letter are not a token.
		j := i
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		if j > i && j < len(s) && isWord(s[j]) {
			i = j
			continue
		}
		end, hit := phoneToken(s, i)
		if hit {
			return true
		}
		i = end
	}
	return false
}

// nextCandidate returns the index of the first byte of s that needs a look
// ('@', or a byte that may start a phone token and does not follow a word
// byte), given the piiFlags of the byte before s; or -1. It is the hot loop
// of the scan: no loop-carried dependency but the index, and one branch
// per byte that stays predictable on random hex. (An 8-bytes-at-a-time
// version was slower on UUIDs: a digit after each '-' stops it.)
func nextCandidate(s []byte, prev uint8) int {
	for i, c := range s {
		cur := piiFlags[c]
		if cur&^(prev<<1)&(pfStart|pfAt) != 0 {
			return i
		}
		prev = cur
	}
	return -1
}

// scanPII records a PII hit for the message; once one is found the rest of
// the message needs no scan.
func (d *Decoder) scanPII(s []byte) {
	if !d.pii && len(s) > 0 && LooksLikePII(s) {
		d.pii = true
	}
}

// userLooksLikePhone is the rule for the user field: a token made only of
// digits and separators (space + - . ( ) / _) with at least one digit is
// suspected to be a phone number or other direct identifier, since a
// pseudonymous token has letters. A hex or numeric hash must therefore be
// sent with a letter prefix.
func userLooksLikePhone(u []byte) bool {
	digit := false
	for _, c := range u {
		switch {
		case '0' <= c && c <= '9':
			digit = true
		case strings.IndexByte(" +-.()/_", c) < 0:
			return false
		}
	}
	return digit
}

// rawUserLooksLikePhone applies userLooksLikePhone to every "user" string in
// a message that could not be parsed, so that such a message is still
// classified pii_suspected.
func rawUserLooksLikePhone(msg []byte) bool {
	for rest := msg; ; {
		k := bytes.Index(rest, []byte(`"user"`))
		if k < 0 {
			return false
		}
		rest = rest[k+len(`"user"`):]
		i := skipWS(rest, 0)
		if i >= len(rest) || rest[i] != ':' {
			continue
		}
		i = skipWS(rest, i+1)
		if i >= len(rest) || rest[i] != '"' {
			continue
		}
		v := rest[i+1:]
		if end := bytes.IndexAny(v, "\"\\"); end >= 0 {
			v = v[:end]
		}
		if userLooksLikePhone(v) {
			return true
		}
	}
}

// Flags of bytes for LooksLikePII.
const (
	pfWord  = 1 << iota // letter, digit or '_'
	pfStart             // digit, '+' or '(': may start a phone token
	_                   // pfWord<<1 lands on pfStart; keep pfAt clear of it
	pfAt                // '@'
)

var piiFlags = func() (t [256]uint8) {
	for c := range 256 {
		b := byte(c)
		if isWord(b) {
			t[c] |= pfWord
		}
		if isDigit(b) || b == '+' || b == '(' {
			t[c] |= pfStart
		}
		if b == '@' {
			t[c] |= pfAt
		}
	}
	return t
}()

func isDigit(c byte) bool { return c-'0' < 10 }

func isLetter(c byte) bool { return (c|0x20)-'a' < 26 }

func isWord(c byte) bool { return isLetter(c) || isDigit(c) || c == '_' }

func isPhoneSep(c byte) bool {
	return c == ' ' || c == '-' || c == '.' || c == '(' || c == ')'
}

// gluedBefore reports whether the token starting at s[i] continues a word:
// a word byte right before it, or before a run of '-' and '.' right before it.
func gluedBefore(s []byte, i int) bool {
	j := i - 1
	for j >= 0 && (s[j] == '-' || s[j] == '.') {
		j--
	}
	return j >= 0 && isWord(s[j])
}

// phoneToken scans the phone token candidate starting at s[start] and
// reports where it ends and whether it is an international or national
// number by the rules of LooksLikePII.
func phoneToken(s []byte, start int) (end int, hit bool) {
	i := start
	intl := s[i] == '+'
	if intl {
		i++
	}
	var sh phoneShape
	cur, seps := 0, 0  // digits in the current group, separators in a row
	dotBefore := false // a '.' since the last group
	lastDigit := i     // position after the last digit
	for ; i < len(s); i++ {
		c := s[i]
		if isDigit(c) {
			if cur == 0 && sh.groups > 0 && dotBefore {
				sh.dotted = true
			}
			cur++
			seps = 0
			lastDigit = i + 1
			continue
		}
		if !isPhoneSep(c) || seps == 3 {
			break
		}
		if cur > 0 {
			sh.add(cur)
			cur, dotBefore = 0, false
		}
		dotBefore = dotBefore || c == '.'
		seps++
	}
	if cur > 0 {
		sh.add(cur)
	}
	end = max(i, start+1)
	if i < len(s) && isWord(s[i]) && bytes.IndexByte(s[lastDigit:i], ' ') < 0 {
		return end, false // glued to the word that follows
	}
	if intl {
		return end, sh.digits >= 7 && sh.digits <= 15
	}
	return end, sh.national()
}

// phoneShape summarises the digit groups of a phone token.
type phoneShape struct {
	digits, groups int
	first, last    int  // digits of the first and the last group
	minMid, maxMid int  // over the groups between them
	dotted         bool // a '.' separates two groups
}

func (p *phoneShape) add(n int) {
	p.digits += n
	p.groups++
	switch p.groups {
	case 1:
		p.first = n
		return
	case 2:
		p.minMid, p.maxMid = 99, 0
	default:
		p.minMid, p.maxMid = min(p.minMid, p.last), max(p.maxMid, p.last)
	}
	p.last = n
}

// national reports whether the shape is a national number (LooksLikePII).
func (p *phoneShape) national() bool {
	switch {
	case p.digits < 9 || p.digits > 15 || p.groups < 2 || p.groups > 5:
		return false
	case p.last != 4 || p.first > 5:
		return false
	case p.groups > 2 && (p.minMid < 2 || p.maxMid > 5):
		return false
	case p.dotted && (p.first < 3 || p.groups > 2 && p.minMid < 3):
		return false
	}
	return true
}

// emailAt reports whether the '@' at s[at] joins an e-mail-like local part
// and domain.
func emailAt(s []byte, at int) bool {
	j := at
	for j > 0 && isLocalPartByte(s[j-1]) {
		j--
	}
	if j == at {
		return false
	}
	k := at + 1
	for k < len(s) && (isWord(s[k]) && s[k] != '_' || s[k] == '-' || s[k] == '.') {
		k++
	}
	domain := bytes.TrimRight(s[at+1:k], ".")
	dot := bytes.LastIndexByte(domain, '.')
	if dot <= 0 || domain[0] == '.' || domain[0] == '-' {
		return false
	}
	tld := domain[dot+1:]
	if len(tld) < 2 {
		return false
	}
	for _, c := range tld {
		if !isLetter(c) {
			return false
		}
	}
	return true
}

func isLocalPartByte(c byte) bool {
	return isWord(c) || c == '.' || c == '%' || c == '+' || c == '-'
}
