package schemas

import "encoding/binary"

// field is the index of a known event v1 field. The order is the contract's
// field order (DESIGN.md) and is also the order in which the decoder reports
// per-field problems, so that an event always gets the same reason whatever
// the order of its keys.
type field uint8

const (
	fieldV field = iota
	fieldID
	fieldTS
	fieldUser
	fieldKind
	fieldPeer
	fieldCategory
	fieldMedia
	fieldN
	fieldCountry
	fieldLang
	fieldAge
	fieldPlatform
	numFields
	noField field = 255
)

var fieldNames = [numFields]string{"v", "id", "ts", "user", "kind", "peer", "category", "media", "n", "country", "lang", "age", "platform"}

// requiredFields has a bit per field that must be present. The category
// requirement depends on kind and peer and is checked on its own.
const requiredFields uint16 = (1<<numFields - 1) &^ (1 << fieldCategory)

// FieldNames returns the names of the event v1 fields in contract order, the
// order in which per-field rejection reasons are checked.
func FieldNames() []string { return append([]string(nil), fieldNames[:]...) }

// lookupField maps a decoded key to its field, or noField. A switch on length
// and one byte, then a single comparison, beats a map and never allocates.
func lookupField(k []byte) field {
	var f field
	switch len(k) {
	case 1:
		switch k[0] {
		case 'v':
			return fieldV
		case 'n':
			return fieldN
		}
		return noField
	case 2:
		f = pick(k[0] == 'i', fieldID, fieldTS)
	case 3:
		f = fieldAge
	case 4:
		switch k[0] {
		case 'u':
			f = fieldUser
		case 'k':
			f = fieldKind
		case 'p':
			f = fieldPeer
		case 'l':
			f = fieldLang
		default:
			return noField
		}
	case 5:
		f = fieldMedia
	case 7:
		f = fieldCountry
	case 8:
		f = pick(k[0] == 'c', fieldCategory, fieldPlatform)
	default:
		return noField
	}
	if string(k) != fieldNames[f] {
		return noField
	}
	return f
}

func pick(cond bool, a, b field) field {
	if cond {
		return a
	}
	return b
}

// fieldOfWord maps a key of at most 8 bytes, packed little endian into w
// (the rest zero), to its field, or noField. It is a perfect hash: the 13
// packed names land in distinct slots of 16 under a multiply and shift, so
// a lookup is a multiply, a load and one comparison.
func fieldOfWord(w uint64) field {
	slot := &fieldSlots[(w*fieldHashMul)>>60]
	if slot.word != w {
		return noField
	}
	return slot.f
}

// fieldHashMul was found by trying random odd multipliers.
const fieldHashMul = 0x943ba0ff0995e99f

type fieldSlot struct {
	word uint64
	f    field
}

var fieldSlots = func() (t [16]fieldSlot) {
	for i := range t {
		t[i].f = noField // word 0 is the empty key: not a field
	}
	for f, name := range fieldNames {
		var b [8]byte
		copy(b[:], name)
		w := binary.LittleEndian.Uint64(b[:])
		slot := &t[(w*fieldHashMul)>>60]
		if slot.f != noField {
			panic("BUG: fieldHashMul does not separate " + name + " from " + fieldNames[slot.f])
		}
		*slot = fieldSlot{w, field(f)}
	}
	return t
}()

// keyWord is the name of a field packed little endian, with the mask of
// its bytes, for testing whether a key is that field in one compare.
type keyWord struct {
	word, mask uint64
	n          int // len(name), at most 8
}

// at reports whether the key whose opening quote is at s[i-1] is exactly
// the name: its first n bytes are the name and the closing quote follows,
// so there is no escape. It needs 9 bytes after i, as readShort does.
func (k *keyWord) at(s []byte, i int) bool {
	return i+9 <= len(s) && binary.LittleEndian.Uint64(s[i:])&k.mask == k.word && s[i+k.n] == '"'
}

var keyWords = func() (t [numFields]keyWord) {
	for f, name := range fieldNames {
		var b [8]byte
		copy(b[:], name)
		// For 8 bytes the mask is all ones: Go defines 1<<64 as 0.
		t[f] = keyWord{binary.LittleEndian.Uint64(b[:]), 1<<(8*len(name)) - 1, len(name)}
	}
	return t
}()

// fieldByName is lookupField for strings, used off the hot path.
func fieldByName(name string) field {
	for i, n := range fieldNames {
		if n == name {
			return field(i)
		}
	}
	return noField
}
