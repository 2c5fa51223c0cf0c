package synth

// Independent random streams, one per concern: adding a draw to one (say,
// a new user attribute) does not shift the data of the others.
const (
	streamPopulation = 0x706f70756c617469 // "populati"
	streamTokens     = 0x746f6b656e730000 // "tokens"
	streamRecords    = 0x7265636f72647300 // "records"
	streamIDs        = 0x6964730000000000 // "ids"
)

// golden is 2^64/φ, the splitmix64 increment.
const golden = 0x9e3779b97f4a7c15

// mix64 is the splitmix64 finalizer: a bijection on uint64, so distinct
// inputs give distinct outputs (event ids are unique by construction).
func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// idLen is the length of an event id: "e" and 16 hex digits.
const idLen = 17

// putID writes the id of event number seq into dst.
func putID(dst *[idLen]byte, key, seq uint64) {
	const hex = "0123456789abcdef"
	v := mix64(key + seq)
	dst[0] = 'e'
	for i := idLen - 1; i > 0; i-- {
		dst[i] = hex[v&15]
		v >>= 4
	}
}
