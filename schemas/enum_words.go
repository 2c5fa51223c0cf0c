package schemas

import "encoding/binary"

// The decoder matches enum values of at most 8 bytes as one little-endian
// word, which saves a string comparison per field; longer values (most
// kinds and categories) go through the Parse functions.

// enumWords packs the names of an enum; names longer than 8 bytes get 0,
// which wordIndex never matches since it also compares the length.
func enumWords(names []string) []uint64 {
	out := make([]uint64, len(names))
	for i, n := range names {
		if len(n) <= 8 {
			var b [8]byte
			copy(b[:], n)
			out[i] = binary.LittleEndian.Uint64(b[:])
		}
	}
	return out
}

var (
	kindWords     = enumWords(kindNames[:])
	peerWords     = enumWords(peerNames[:])
	mediaWords    = enumWords(mediaNames[:])
	ageWords      = enumWords(ageNames[:])
	platformWords = enumWords(platformNames[:])
	categoryNames = categorySlugs()
	categoryWords = enumWords(categoryNames)
)

func categorySlugs() []string {
	out := make([]string, len(taxonomy))
	for i, c := range taxonomy {
		out[i] = c.Slug
	}
	return out
}

// wordIndex returns the index of the name whose packed word is w and whose
// length is n (a NUL byte in a value packs like the padding).
func wordIndex(words []uint64, names []string, w uint64, n int) (int, bool) {
	for i, x := range words {
		if x == w && len(names[i]) == n {
			return i, true
		}
	}
	return 0, false
}

// setWord stores the string field f whose value is the n ≤ 8 bytes packed
// in w, and reports whether it is valid. It is setString for short values.
func setWord(f field, w uint64, n int, e *Event) bool {
	if n == 0 {
		return f == fieldCategory // "" is no category; the category rule is checked later
	}
	var i int
	var ok bool
	switch f {
	case fieldKind:
		i, ok = wordIndex(kindWords, kindNames[:], w, n)
		e.Kind = Kind(i)
	case fieldPeer:
		i, ok = wordIndex(peerWords, peerNames[:], w, n)
		e.Peer = Peer(i)
	case fieldCategory:
		i, ok = wordIndex(categoryWords, categoryNames, w, n)
		e.Category = Category(i + 1)
	case fieldMedia:
		i, ok = wordIndex(mediaWords, mediaNames[:], w, n)
		e.Media = Media(i)
	case fieldAge:
		i, ok = wordIndex(ageWords, ageNames[:], w, n)
		e.Age = AgeBand(i)
	case fieldPlatform:
		i, ok = wordIndex(platformWords, platformNames[:], w, n)
		e.Platform = Platform(i)
	case fieldCountry:
		e.Country = Country{byte(w), byte(w >> 8)}
		ok = n == 2 && e.Country.Valid()
	case fieldLang:
		e.Lang = Lang{byte(w), byte(w >> 8)}
		ok = n == 2 && e.Lang.Valid()
	}
	return ok
}
