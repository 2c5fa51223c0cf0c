package privacy

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
)

// TestKeyID: the key id is the documented HMAC of the fixed label,
// 16 hex digits; it is neither the secret nor any part of it, nor the
// noise subkey; two secrets give two ids; a Noiser reports its secret's.
func TestKeyID(t *testing.T) {
	a := []byte("test-secret-0123456789abcdef0123")
	b := []byte("test-secret-0123456789abcdef0124")
	idA, idB := KeyID(a), KeyID(b)
	m := hmac.New(sha256.New, a)
	m.Write([]byte("cohortline/ledger/key-id/v1"))
	if want := hex.EncodeToString(m.Sum(nil))[:16]; idA != want {
		t.Errorf("KeyID = %s, want %s", idA, want)
	}
	if len(idA) != KeyIDLen || strings.Trim(idA, "0123456789abcdef") != "" {
		t.Errorf("KeyID %q is not %d hex digits", idA, KeyIDLen)
	}
	if idA == idB {
		t.Errorf("two secrets share key id %s", idA)
	}
	if strings.Contains(string(a), idA) || strings.Contains(hex.EncodeToString(a), idA) {
		t.Errorf("key id %s is part of the secret", idA)
	}
	sub := hmac.New(sha256.New, a)
	sub.Write([]byte(noiseLabel))
	if strings.Contains(hex.EncodeToString(sub.Sum(nil)), idA) {
		t.Errorf("key id %s is part of the noise subkey", idA)
	}
	n, err := NewNoiser(a)
	if err != nil {
		t.Fatal(err)
	}
	if n.KeyID() != idA {
		t.Errorf("Noiser.KeyID = %s, want KeyID(secret) %s", n.KeyID(), idA)
	}
	if s := n.String(); strings.Contains(s, idA) {
		t.Errorf("Noiser.String %q shows the key id; it should stay redacted", s)
	}
}
