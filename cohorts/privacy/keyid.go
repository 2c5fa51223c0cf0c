package privacy

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
)

// keyIDLabel is the fixed message whose HMAC under the secret is the key
// id. It differs from every subkey label (noiseLabel, cohorts.Rekeyer's),
// so the key id is a different pseudorandom value than any key the
// secret gives, and shares no bits with them.
const keyIDLabel = "cohortline/ledger/key-id/v1"

// KeyIDLen is the length of a key id in hex digits: 64 bits, enough that
// two secrets in one deployment's history practically never share one.
const KeyIDLen = 16

// KeyID names a secret in the privacy ledger without revealing it:
// the first 64 bits of HMAC-SHA256(secret, "cohortline/ledger/key-id/v1"),
// in hex. It tells whether two releases were noised under the same
// secret (the noise of a republish is the same only then, so only then is
// it free: publish.Publisher), and nothing else: HMAC is a pseudorandom
// function, so the id gives no information on the secret nor on its
// subkeys, and 64 bits of a fixed label's tag cannot key a re-keying or a
// noise draw.
func KeyID(secret []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(keyIDLabel))
	return hex.EncodeToString(m.Sum(nil))[:KeyIDLen]
}
