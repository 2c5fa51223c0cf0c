package cohorts

import "github.com/cohortline/cohortline/schemas"

// Key is a canonical cohort key: the values of the spec's dimensions, each
// possibly generalized to "*", and the spec's dimension order. It is packed
// into one uint64 so that it is a cheap, comparable map key; the zero Key
// has no dimensions and is no cohort.
//
// Equal cohorts have equal Keys, and a Key is self-contained: String and ID
// need no spec. The packing is internal and may change; persist String or
// ID, never the bits.
type Key struct{ bits uint64 }

// Layout of Key.bits, low bit first:
//
//	 0–15  country, two ASCII letters (first letter in the low byte)
//	16–31  lang, two ASCII letters
//	32–35  age band (schemas.AgeBand)
//	36–39  platform (schemas.Platform)
//	40–43  Level: bit i set when knownDims[i] is "*"
//	44–51  order: 2 bits per position, the knownDims index at that position
//	52–54  number of dimensions (1–4)
//
// The value bits of a generalized or absent dimension are zero, so that
// generalizing two keys that differ only there gives equal keys.
const (
	levelShift = 40
	orderShift = 44
	countShift = 52
)

var (
	fieldShift = [numDims]uint{idxCountry: 0, idxLang: 16, idxAge: 32, idxPlatform: 36}
	fieldMask  = [numDims]uint64{idxCountry: 0xFFFF, idxLang: 0xFFFF, idxAge: 0xF, idxPlatform: 0xF}
)

// maxKeyLen bounds a key's string: the longest,
// "country=XX|lang=xx|age=unknown|platform=desktop", is 47 bytes.
const maxKeyLen = 64

// shape returns the spec's part of every key (its dimensions and their
// order) and the mask of the value bits those dimensions use. s must be
// valid; unknown dimensions are skipped rather than checked on the hot path.
func (s Spec) shape() (shape, values uint64) {
	n := 0
	for _, d := range s.Dimensions {
		i, ok := d.index()
		if !ok || n == numDims {
			continue
		}
		shape |= uint64(i) << (orderShift + 2*n)
		values |= fieldMask[i] << fieldShift[i]
		n++
	}
	return shape | uint64(n)<<countShift, values
}

// KeyOf returns the finest cohort of e under s (no dimension generalized).
// It does not allocate. s must be valid.
//
// Minors (age 13-17) are never in a cohort: the pipeline's policy filter
// drops their events before cohort assignment, so a minor's event here is a
// broken invariant and panics, whether or not age is a dimension.
func KeyOf(s Spec, e *schemas.Event) Key {
	if e.Age == schemas.AgeMinor {
		panic("BUG: cohorts.KeyOf got an event of age 13-17; the policy filter must drop minors before cohort assignment")
	}
	shape, values := s.shape()
	v := uint64(e.Country[0]) | uint64(e.Country[1])<<8 |
		uint64(e.Lang[0])<<16 | uint64(e.Lang[1])<<24 |
		uint64(e.Age&0xF)<<32 | uint64(e.Platform&0xF)<<36
	return Key{bits: v&values | shape}
}

func (k Key) count() int             { return int(k.bits >> countShift & 7) }
func (k Key) dimAt(pos int) int      { return int(k.bits >> (orderShift + 2*pos) & 3) }
func (k Key) field(i int) uint64     { return k.bits >> fieldShift[i] & fieldMask[i] }
func (k Key) generalized(i int) bool { return k.bits&(1<<(levelShift+i)) != 0 }

func (k Key) has(i int) bool {
	for pos := range k.count() {
		if k.dimAt(pos) == i {
			return true
		}
	}
	return false
}

// Level returns the set of k's generalized dimensions.
func (k Key) Level() Level { return Level(k.bits >> levelShift & 0xF) }

// Generalize returns k with dimension d replaced by "*". A dimension that
// is not in k, or already "*", leaves k as it is.
func (k Key) Generalize(d Dimension) Key {
	i, ok := d.index()
	if !ok || !k.has(i) {
		return k
	}
	k.bits &^= fieldMask[i] << fieldShift[i]
	k.bits |= 1 << (levelShift + i)
	return k
}

// AppendString appends the canonical key string, e.g.
// "country=BR|lang=pt|age=25-34|platform=android", dimensions in the spec's
// order, "*" for a generalized one. It allocates only if dst lacks room.
func (k Key) AppendString(dst []byte) []byte {
	for pos := range k.count() {
		if pos > 0 {
			dst = append(dst, '|')
		}
		i := k.dimAt(pos)
		dst = append(dst, knownDims[i]...)
		dst = append(dst, '=')
		if k.generalized(i) {
			dst = append(dst, '*')
			continue
		}
		v := k.field(i)
		switch i {
		case idxCountry, idxLang:
			dst = append(dst, byte(v), byte(v>>8))
		case idxAge:
			dst = append(dst, schemas.AgeBand(v).String()...)
		case idxPlatform:
			dst = append(dst, schemas.Platform(v).String()...)
		}
	}
	return dst
}

// String returns the canonical key string (see AppendString).
func (k Key) String() string {
	var buf [maxKeyLen]byte
	return string(k.AppendString(buf[:0]))
}
