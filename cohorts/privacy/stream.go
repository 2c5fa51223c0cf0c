package privacy

import (
	"crypto/sha256"
	"encoding/binary"
)

// stream is the keyed randomness of one draw: 64-bit words w0, w1, …
// expanded from the draw's 32-byte seed by SHA-256 in counter mode,
//
//	block j = SHA-256(seed ‖ uint64 big-endian j),  j = 0, 1, …
//	w(4j+i) = block j bytes [8i, 8i+8) as a little-endian uint64,
//
// and read as bits, from the least significant bit of each word up: a
// request for n bits takes the next n unread bits of the current word,
// or, if fewer are left, skips them and takes the low n bits of the next
// word. Skipping unread bits biases nothing.
//
// The seed is a PRF output under the secret (Noiser.seed), so the bits
// are unpredictable without it. This layout is part of the noise
// contract: changing it changes every published value (TestNoiseGolden).
// Reading bits rather than whole words is for speed: a draw needs about
// ten small random choices, and each SHA-256 block costs ~100 ns.
//
// A stream lives on the stack of one draw; it does not allocate.
type stream struct {
	in   [sha256.Size + 8]byte // seed ‖ counter
	out  [sha256.Size]byte
	next int    // next unread word of out; len(out)/8 means refill
	ctr  uint64 // blocks made
	res  uint64 // unread bits of the current word, low bits first
	nres uint   // how many
}

func newStream(seed [sha256.Size]byte) stream {
	s := stream{next: sha256.Size / 8}
	copy(s.in[:], seed[:])
	return s
}

// word returns the next word of the stream.
func (s *stream) word() uint64 {
	if s.next == sha256.Size/8 {
		binary.BigEndian.PutUint64(s.in[sha256.Size:], s.ctr)
		s.out = sha256.Sum256(s.in[:])
		s.ctr++
		s.next = 0
	}
	w := binary.LittleEndian.Uint64(s.out[8*s.next:])
	s.next++
	return w
}

// take returns the next n uniform bits, 1 ≤ n ≤ 63 (see stream).
func (s *stream) take(n uint) uint64 {
	if s.nres < n {
		s.res, s.nres = s.word(), 64
	}
	v := s.res & (1<<n - 1)
	s.res >>= n
	s.nres -= n
	return v
}

// bit returns a fair coin.
func (s *stream) bit() bool { return s.take(1) == 1 }

// below returns a uniform integer in [0, n), n ≥ 1, exactly: Lemire's
// multiply-and-reject ("Fast random integer generation in an interval",
// 2019) on 32-bit draws. It rejects a draw with probability below n/2^32.
func (s *stream) below(n uint32) uint32 {
	m := s.take(32) * uint64(n)
	if uint32(m) < n {
		thresh := -n % n // 2^32 mod n
		for uint32(m) < thresh {
			m = s.take(32) * uint64(n)
		}
	}
	return uint32(m >> 32)
}
