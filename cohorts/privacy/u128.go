package privacy

import "math/bits"

// u128 is an unsigned 128-bit integer, for the exact arithmetic of the
// discrete Gaussian's acceptance test (gaussian.go) without math/big,
// which would allocate on every draw.
type u128 struct{ hi, lo uint64 }

// mul64 returns a·b exactly.
func mul64(a, b uint64) u128 {
	hi, lo := bits.Mul64(a, b)
	return u128{hi, lo}
}

// divmod64 returns ⌊x/d⌋ and x mod d, d ≥ 1 (long division in two 64-bit
// steps, so any x works).
func (x u128) divmod64(d uint64) (u128, uint64) {
	qhi, r := x.hi/d, x.hi%d
	qlo, r := bits.Div64(r, x.lo, d)
	return u128{qhi, qlo}, r
}

// shr returns x >> n, n < 64.
func (x u128) shr(n uint) u128 {
	if n == 0 {
		return x
	}
	return u128{x.hi >> n, x.lo>>n | x.hi<<(64-n)}
}

// mulSmall returns x·m; the caller knows that it fits.
func (x u128) mulSmall(m uint64) u128 {
	hi, lo := bits.Mul64(x.lo, m)
	return u128{x.hi*m + hi, lo}
}

// sub returns x - y, x ≥ y.
func (x u128) sub(y u128) u128 {
	lo, borrow := bits.Sub64(x.lo, y.lo, 0)
	return u128{x.hi - y.hi - borrow, lo}
}

// less reports x < y.
func (x u128) less(y u128) bool { return x.hi < y.hi || x.hi == y.hi && x.lo < y.lo }

// isZero reports x == 0.
func (x u128) isZero() bool { return x.hi == 0 && x.lo == 0 }

// bitLen is the number of bits of x.
func (x u128) bitLen() uint {
	if x.hi != 0 {
		return 64 + uint(bits.Len64(x.hi))
	}
	return uint(bits.Len64(x.lo))
}
