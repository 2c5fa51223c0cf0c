package cohorts

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash"
	"testing"
)

var sinkU64 uint64

// hmacRekeyer is the DESIGN.md construction, HMAC-SHA256(secret, token)
// truncated to 64 bits, written as fast as crypto/hmac allows (one
// reused hash.Hash, no allocation per call), for comparison with Rekeyer.
type hmacRekeyer struct {
	h   hash.Hash
	sum [sha256.Size]byte
}

func (r *hmacRekeyer) id(p []byte) uint64 {
	r.h.Reset()
	r.h.Write(p)
	return binary.LittleEndian.Uint64(r.h.Sum(r.sum[:0]))
}

// BenchmarkRekey compares the two PRFs on the inputs the pipeline feeds
// them: synth's user tokens (16–40 bytes), a UUID-like event id (36 bytes)
// and the longest token the contract allows (128 bytes).
func BenchmarkRekey(b *testing.B) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	inputs := []struct {
		name string
		in   []byte
	}{
		{"token24", []byte("u_8f3kQ2xLm9TzR4vWp7YbN1")},
		{"id36", []byte("0190f5a2-7c3e-7b8a-9f12-3c4d5e6f7a8b")},
		{"token128", make128()},
	}
	for _, in := range inputs {
		b.Run(fmt.Sprintf("hmac-sha256/%s", in.name), func(b *testing.B) {
			r := &hmacRekeyer{h: hmac.New(sha256.New, secret)}
			b.ReportAllocs()
			b.SetBytes(int64(len(in.in)))
			for b.Loop() {
				sinkU64 ^= r.id(in.in)
			}
		})
		b.Run(fmt.Sprintf("siphash-2-4/%s", in.name), func(b *testing.B) {
			r, err := NewRekeyer(secret)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(in.in)))
			for b.Loop() {
				sinkU64 ^= uint64(r.User(in.in))
			}
		})
	}
}

func make128() []byte {
	p := make([]byte, 128)
	for i := range p {
		p[i] = "abcdefghijklmnopqrstuvwxyz0123456789"[i%36]
	}
	return p
}
