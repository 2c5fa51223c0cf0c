package privacy

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"fmt"

	"github.com/cohortline/cohortline/cohorts"
)

// Slots of the two published counts outside Partial.Values; feature slot
// i (0 ≤ i < cohorts.NumFeaturesV1()) is Partial.Values[i].
const (
	SlotUsers = -1 // Partial.Users, the count that decides k-anonymity
)

// Scope is what one window's publication has in common: every draw of
// the window is seeded by its Scope, the cohort id and the slot.
type Scope struct {
	// Release is the version of the cohort spec and feature set
	// (DESIGN.md, privacy invariant 4), not a counter of publishes.
	Release string
	// WindowStart is the window's start, Unix epoch milliseconds.
	WindowStart int64
	// InputDigest is a digest, computed by the caller, of the window's
	// input partials. Same data gives the same noise, so a republish or
	// backfill gives the same numbers and repeated queries cannot average
	// the noise away; changed data (stragglers, a backfill) gives fresh
	// noise, since with the old noise the difference of two releases would
	// be the changed contribution exactly. A fresh draw spends the budget
	// again.
	InputDigest [sha256.Size]byte
}

// noiseLabel separates the noise subkey from the re-keying subkeys
// (cohorts.Rekeyer), which HMAC derives from the same secret. The "v1" is
// the version of this derivation: changing it changes every draw.
const noiseLabel = "cohortline/dp-noise/v1"

// Noiser draws deterministic discrete-Laplace noise keyed by a secret:
// the same (secret, scope, cohort, slot, scale) always gives the same
// value, and nobody without the secret can predict or subtract it.
//
// It keeps only the noise subkey, HMAC-SHA256(secret, noiseLabel), as
// HMAC's two padded key blocks, and its String hides them. It is
// immutable, so safe for concurrent use, and Noise does not allocate
// (unless Scope.Release is longer than 128 bytes).
type Noiser struct {
	ipad, opad [sha256.BlockSize]byte // subkey ⊕ 0x36…, subkey ⊕ 0x5c…
	keyID      string                 // KeyID of the secret
}

// NewNoiser derives the noise subkey from secret (the configured
// re-keying and noise secret, at least cohorts.MinSecretLen bytes). The
// caller may wipe secret afterwards.
func NewNoiser(secret []byte) (*Noiser, error) {
	if len(secret) < cohorts.MinSecretLen {
		return nil, fmt.Errorf("noise secret: %d bytes, want at least %d (use 32 random bytes)", len(secret), cohorts.MinSecretLen)
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(noiseLabel))
	key := m.Sum(nil)
	n := &Noiser{}
	for i := range n.ipad {
		n.ipad[i], n.opad[i] = 0x36, 0x5c
	}
	for i, b := range key { // 32 bytes, shorter than a block: HMAC zero-pads it
		n.ipad[i] ^= b
		n.opad[i] ^= b
	}
	clear(key)
	n.keyID = KeyID(secret)
	return n, nil
}

// KeyID returns the KeyID of the secret the Noiser was made with: what
// the privacy ledger records of the key that noised a release.
func (n *Noiser) KeyID() string { return n.keyID }

// Noise returns the noise of one slot of one cohort's row: a draw from
// scale (discrete Laplace or discrete Gaussian, same seed either way) seeded by (scope, cohortID, slot). cohortID is
// the published cohort_id of the row; slot is SlotUsers or a
// feature slot. Add it with AddClamped.
func (n *Noiser) Noise(s Scope, cohortID uint64, slot int, scale Scale) int64 {
	if scale.num == 0 {
		panic("BUG: privacy: zero Scale (make Scales with NewScale, NewGaussianScale or Split)")
	}
	r := newStream(n.seed(&s, cohortID, slot))
	if scale.mech == Gaussian {
		return r.discreteGaussian(scale.num, scale.t)
	}
	return r.discreteLaplace(scale.num)
}

// maxStackRelease is the longest Release whose draw is encoded on the
// stack.
const maxStackRelease = 128

// seed is HMAC-SHA256(subkey, encodeDraw(…)), the seed of one draw's
// stream, written out as H(opad ‖ H(ipad ‖ message)) so that it needs no
// hash.Hash state: crypto/hmac's state would have to be pooled to be
// shared between goroutines without allocating. TestSeedIsHMAC checks it
// against crypto/hmac.
func (n *Noiser) seed(s *Scope, cohortID uint64, slot int) [sha256.Size]byte {
	var stack [sha256.BlockSize + drawFixedLen + maxStackRelease]byte
	buf := stack[:0]
	if len(s.Release) > maxStackRelease {
		buf = make([]byte, 0, sha256.BlockSize+drawFixedLen+len(s.Release))
	}
	buf = append(buf, n.ipad[:]...)
	inner := sha256.Sum256(encodeDraw(buf, s, cohortID, slot))
	var outer [sha256.BlockSize + sha256.Size]byte
	copy(outer[:], n.opad[:])
	copy(outer[sha256.BlockSize:], inner[:])
	return sha256.Sum256(outer[:])
}

// drawFixedLen is the length of encodeDraw's output without the release.
const drawFixedLen = 8 + 8 + sha256.Size + 8 + 8

// encodeDraw appends the canonical encoding of a draw to b:
//
//	uint64 len(Release) ‖ Release ‖ int64 WindowStart ‖ InputDigest (32 bytes) ‖ uint64 cohortID ‖ int64 slot
//
// integers big-endian, fixed width. Only Release has a variable length,
// and its length comes first, so the encoding is injective: no two
// distinct draws share a seed input.
func encodeDraw(b []byte, s *Scope, cohortID uint64, slot int) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(len(s.Release)))
	b = append(b, s.Release...)
	b = binary.BigEndian.AppendUint64(b, uint64(s.WindowStart))
	b = append(b, s.InputDigest[:]...)
	b = binary.BigEndian.AppendUint64(b, cohortID)
	return binary.BigEndian.AppendUint64(b, uint64(int64(slot)))
}

// String hides the subkey, so that logging a Noiser by mistake leaks
// nothing.
func (n *Noiser) String() string { return "privacy.Noiser{redacted}" }

// GoString hides the subkey from %#v too.
func (n *Noiser) GoString() string { return n.String() }

// AddClamped returns value + noise clamped to [0, 2^64-1]: a published
// count is never negative. Clamping is post-processing (it reads only the
// noisy value), so it costs no privacy. It biases counts near 0 upwards
// (their mean is above the true value); the k threshold (k ≥ 2) gives the
// same answer on the clamped and the unclamped users count.
func AddClamped(value uint64, noise int64) uint64 {
	if noise >= 0 {
		sum := value + uint64(noise)
		if sum < value {
			return ^uint64(0)
		}
		return sum
	}
	if d := uint64(-(noise + 1)) + 1; d < value { // |noise| without overflow at MinInt64
		return value - d
	}
	return 0
}
