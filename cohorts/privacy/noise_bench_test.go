package privacy

import (
	"fmt"
	"testing"
)

// BenchmarkNoise measures one draw: the seed's HMAC, the stream's SHA-256
// blocks and the exact sampler. The sampler's work depends on γ only
// through the rejection of (negative, 0), so small and large γ bracket it.
func BenchmarkNoise(b *testing.B) {
	n, err := NewNoiser([]byte("benchmark-secret-0123456789abcdef"))
	if err != nil {
		b.Fatal(err)
	}
	s := Scope{Release: "spec=3;features=1", WindowStart: 1_700_000_000_000}
	for _, gamma := range []float64{1e-5, 0.1, 1, 10} {
		scale, err := NewScale(gamma, 1)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("gamma=%g", gamma), func(b *testing.B) {
			b.ReportAllocs()
			var sink int64
			for i := 0; b.Loop(); i++ {
				sink += n.Noise(s, uint64(i), i%100, scale)
			}
			_ = sink
		})
	}
}

// BenchmarkGaussianNoise measures one discrete Gaussian draw: the same
// seed and stream as BenchmarkNoise, then CKS Algorithm 3 (about 1.5
// Laplace proposals and one exact acceptance test per draw).
func BenchmarkGaussianNoise(b *testing.B) {
	n, err := NewNoiser([]byte("benchmark-secret-0123456789abcdef"))
	if err != nil {
		b.Fatal(err)
	}
	s := Scope{Release: "spec=3;features=2", WindowStart: 1_700_000_000_000}
	for _, sigma2 := range []float64{1, 100, 1e4, 1e8} {
		scale, err := NewGaussianScale(1/(2*sigma2), 1)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("sigma2=%g", sigma2), func(b *testing.B) {
			b.ReportAllocs()
			var sink int64
			for i := 0; b.Loop(); i++ {
				sink += n.Noise(s, uint64(i), i%100, scale)
			}
			_ = sink
		})
	}
}
