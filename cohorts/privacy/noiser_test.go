package privacy

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"strings"
	"testing"
)

// TestSeedIsHMAC: the seed is HMAC-SHA256(HMAC-SHA256(secret, label),
// encoding), as documented, for releases on both sides of the stack
// buffer.
func TestSeedIsHMAC(t *testing.T) {
	secret := []byte("test-secret-0123456789abcdef0123")
	n := testNoiser(t)
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("cohortline/dp-noise/v1"))
	subkey := m.Sum(nil)
	for _, l := range []int{0, 1, 17, maxStackRelease - 1, maxStackRelease, maxStackRelease + 1, 300} {
		s := Scope{Release: strings.Repeat("r", l), WindowStart: -5, InputDigest: sha256.Sum256([]byte{byte(l)})}
		m := hmac.New(sha256.New, subkey)
		m.Write(encodeDraw(nil, &s, 42, SlotUsers))
		if got, want := n.seed(&s, 42, SlotUsers), [32]byte(m.Sum(nil)); got != want {
			t.Errorf("release of %d bytes: seed %x, HMAC gives %x", l, got, want)
		}
	}
}

func TestNoiseDeterministic(t *testing.T) {
	secret := []byte("test-secret-0123456789abcdef0123")
	a, err := NewNoiser(secret)
	if err != nil {
		t.Fatal(err)
	}
	clear(secret) // the Noiser keeps no reference to it
	b := testNoiser(t)
	scale := testScale(t, 0.01)
	s := Scope{Release: "spec=1;features=1", WindowStart: 1_700_000_000_000, InputDigest: sha256.Sum256([]byte("partials"))}
	for i := range 1000 {
		slot := i%50 - 2
		first := a.Noise(s, uint64(i), slot, scale)
		if again := a.Noise(s, uint64(i), slot, scale); again != first {
			t.Fatalf("cohort %d slot %d: %d, then %d", i, slot, first, again)
		}
		if other := b.Noise(s, uint64(i), slot, scale); other != first {
			t.Fatalf("cohort %d slot %d: %d, another Noiser with the same secret gives %d", i, slot, first, other)
		}
	}
}

// TestNoiseDependsOnEveryInput varies one input of the draw at a time
// (secret, release, window, digest, cohort, slot) over many values and
// checks that (a) no two seeds collide, (b) neighbouring values give
// equal noise only as often as independent draws would,
// Σ P(Z=z)² = ((1-a)/(1+a))²·(1+a²)/(1-a²), and (c) the draws along
// each input are distributed as they should be. An input the seed
// ignored would give equal draws every time.
func TestNoiseDependsOnEveryInput(t *testing.T) {
	t.Parallel() // with the distribution tests: they are CPU-bound
	count := 10_000
	if testing.Short() {
		count = 3_000
	}
	scale := testScale(t, 0.1)
	a := scale.A()
	pEqual := math.Pow((1-a)/(1+a), 2) * (1 + a*a) / (1 - a*a)

	base := testNoiser(t)
	baseScope := Scope{Release: "base", WindowStart: 1_700_000_000_000, InputDigest: sha256.Sum256([]byte("base"))}
	const baseCohort, baseSlot = 1 << 40, 1 << 20
	type draw struct {
		n      *Noiser
		s      Scope
		cohort uint64
		slot   int
	}
	vary := map[string]func(i int) draw{
		"secret": func(i int) draw {
			n, err := NewNoiser(fmt.Appendf(nil, "secret-%06d-0123456789", i))
			if err != nil {
				t.Fatal(err)
			}
			return draw{n, baseScope, baseCohort, baseSlot}
		},
		"release": func(i int) draw {
			s := baseScope
			s.Release = fmt.Sprintf("r%d", i)
			return draw{base, s, baseCohort, baseSlot}
		},
		"window": func(i int) draw {
			s := baseScope
			s.WindowStart += int64(i+1) * 3_600_000
			return draw{base, s, baseCohort, baseSlot}
		},
		"digest": func(i int) draw {
			s := baseScope
			s.InputDigest = sha256.Sum256(binary.AppendVarint(nil, int64(i)))
			return draw{base, s, baseCohort, baseSlot}
		},
		"cohort": func(i int) draw { return draw{base, baseScope, uint64(i), baseSlot} },
		"slot":   func(i int) draw { return draw{base, baseScope, baseCohort, i - 2} },
	}
	seeds := map[[32]byte]string{base.seed(&baseScope, baseCohort, baseSlot): "base"}
	for name, f := range vary {
		zs := make([]int64, count)
		equal := 0
		for i := range zs {
			d := f(i)
			seed := d.n.seed(&d.s, d.cohort, d.slot)
			if prev, dup := seeds[seed]; dup {
				t.Fatalf("%s %d: seed collides with %s", name, i, prev)
			}
			seeds[seed] = fmt.Sprintf("%s %d", name, i)
			zs[i] = d.n.Noise(d.s, d.cohort, d.slot, scale)
			if i > 0 && zs[i] == zs[i-1] {
				equal++
			}
		}
		t.Run(name, func(t *testing.T) {
			checkFreq(t, "equal neighbours", equal, count-1, pEqual)
			checkLaplace(t, zs, scale)
		})
	}
}

// decodeDraw parses encodeDraw's output; that it inverts encodeDraw
// proves encodeDraw injective.
func decodeDraw(b []byte) (s Scope, cohortID uint64, slot int, ok bool) {
	if len(b) < 8 {
		return s, 0, 0, false
	}
	n := binary.BigEndian.Uint64(b)
	b = b[8:]
	if n > uint64(len(b)) || uint64(len(b))-n != drawFixedLen-8 {
		return s, 0, 0, false
	}
	s.Release, b = string(b[:n]), b[n:]
	s.WindowStart = int64(binary.BigEndian.Uint64(b))
	copy(s.InputDigest[:], b[8:40])
	return s, binary.BigEndian.Uint64(b[40:]), int(int64(binary.BigEndian.Uint64(b[48:]))), true
}

// trickyDraws are draws whose fields, run together without lengths,
// would share bytes: a release that is a prefix of another, or that ends
// in what looks like a length, window or digest.
func trickyDraws() []struct {
	s      Scope
	cohort uint64
	slot   int
} {
	w := make([]byte, 8)
	binary.BigEndian.PutUint64(w, 1_700_000_000_000)
	type d = struct {
		s      Scope
		cohort uint64
		slot   int
	}
	return []d{
		{Scope{Release: "a", WindowStart: 1_700_000_000_000}, 1, 0},
		{Scope{Release: "ab", WindowStart: 1_700_000_000_000}, 1, 0},
		{Scope{Release: "a" + string(w[:7]), WindowStart: 1_700_000_000_000}, 1, 0},
		{Scope{Release: "", WindowStart: 1_700_000_000_000}, 1, 0},
		{Scope{Release: "\x00", WindowStart: 1_700_000_000_000}, 1, 0},
		{Scope{Release: "\x00\x00\x00\x00\x00\x00\x00\x01a", WindowStart: 1_700_000_000_000}, 1, 0},
		{Scope{Release: "a", WindowStart: 1_700_000_000_000}, 1, SlotUsers},
		{Scope{Release: "a", WindowStart: 1_700_000_000_000}, 1, -2},
		{Scope{Release: "a", WindowStart: 1_700_000_000_000}, 1 << 32, 0},
		{Scope{Release: "a", WindowStart: -1}, 1, 0},
		{Scope{Release: "a", WindowStart: 1_700_000_000_000, InputDigest: [32]byte{31: 1}}, 1, 0},
		{Scope{Release: "a" + string(w), WindowStart: 0}, 1, 0},
	}
}

func TestEncodeDrawInjective(t *testing.T) {
	n := testNoiser(t)
	encodings := map[string]int{}
	seeds := map[[32]byte]int{}
	for i, d := range trickyDraws() {
		enc := encodeDraw(nil, &d.s, d.cohort, d.slot)
		if j, dup := encodings[string(enc)]; dup {
			t.Errorf("draws %d and %d encode alike: %x", j, i, enc)
		}
		encodings[string(enc)] = i
		if j, dup := seeds[n.seed(&d.s, d.cohort, d.slot)]; dup {
			t.Errorf("draws %d and %d share a seed", j, i)
		}
		seeds[n.seed(&d.s, d.cohort, d.slot)] = i
		s, c, slot, ok := decodeDraw(enc)
		if !ok || s != d.s || c != d.cohort || slot != d.slot {
			t.Errorf("draw %d: decodes to %+v %d %d %v", i, s, c, slot, ok)
		}
	}
}

// FuzzEncodeDraw: two draws encode alike exactly when they are equal, and
// every encoding decodes to its draw.
func FuzzEncodeDraw(f *testing.F) {
	f.Add("a", int64(0), []byte{}, uint64(0), 0, "ab", int64(0), []byte{}, uint64(0), 0)
	f.Add("a", int64(1), []byte{1}, uint64(2), -1, "a", int64(1), []byte{1}, uint64(2), -2)
	f.Add("", int64(-1), []byte("x"), uint64(1<<63), 5, "\x00", int64(-1), []byte("x"), uint64(1<<63), 5)
	f.Fuzz(func(t *testing.T, r1 string, w1 int64, d1 []byte, c1 uint64, s1 int, r2 string, w2 int64, d2 []byte, c2 uint64, s2 int) {
		a := Scope{Release: r1, WindowStart: w1, InputDigest: sha256.Sum256(d1)}
		b := Scope{Release: r2, WindowStart: w2, InputDigest: sha256.Sum256(d2)}
		ea, eb := encodeDraw(nil, &a, c1, s1), encodeDraw(nil, &b, c2, s2)
		if same := a == b && c1 == c2 && s1 == s2; bytes.Equal(ea, eb) != same {
			t.Fatalf("draws equal: %v, encodings equal: %v", same, !same)
		}
		if s, c, slot, ok := decodeDraw(ea); !ok || s != a || c != c1 || slot != s1 {
			t.Fatalf("%+v %d %d decodes to %+v %d %d %v", a, c1, s1, s, c, slot, ok)
		}
	})
}

// TestNoiseGolden pins draws of a fixed secret: published values must be
// reproducible by any later version of the code (a backfill republishes
// old windows), so the seed encoding, the stream and the sampler may not
// change. If this fails, the noise contract changed: that needs a new
// noise label version, not a new golden value.
func TestNoiseGolden(t *testing.T) {
	n := testNoiser(t)
	s := Scope{Release: "spec=1;features=1", WindowStart: 1_700_000_000_000, InputDigest: sha256.Sum256([]byte("golden"))}
	for _, tt := range []struct {
		gamma  float64
		cohort uint64
		slot   int
		want   int64
	}{
		{0.25, 1, SlotUsers, 3},
		{0.25, 2, SlotUsers, -1},
		{0.25, 3, SlotUsers, 3},
		{0.01, 1, -2, 123},
		{0.01, 1, 0, -16},
		{0.01, 1, 107, 13},
		{1e-5, 99, 3, 119831},
		{3, 99, 3, 0},
	} {
		if got := n.Noise(s, tt.cohort, tt.slot, testScale(t, tt.gamma)); got != tt.want {
			t.Errorf("γ=%g cohort %d slot %d: noise %d, pinned %d", tt.gamma, tt.cohort, tt.slot, got, tt.want)
		}
	}
}

func TestNewNoiserShortSecret(t *testing.T) {
	if _, err := NewNoiser(make([]byte, 15)); err == nil || !strings.Contains(err.Error(), "15 bytes, want at least 16") {
		t.Errorf("15-byte secret: err = %v", err)
	}
}

func TestNoiserRedacted(t *testing.T) {
	n := testNoiser(t)
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		out := fmt.Sprintf(format, n)
		if out != "privacy.Noiser{redacted}" {
			t.Errorf("%s prints %q", format, out)
		}
	}
}

func TestZeroScalePanics(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "zero Scale") {
			t.Errorf("recovered %v, want a zero Scale panic", r)
		}
	}()
	testNoiser(t).Noise(Scope{}, 1, 0, Scale{})
}

func TestAddClamped(t *testing.T) {
	for _, tt := range []struct {
		value uint64
		noise int64
		want  uint64
	}{
		{10, 3, 13},
		{10, -3, 7},
		{10, -10, 0},
		{10, -11, 0},
		{0, -1, 0},
		{0, 0, 0},
		{5, math.MinInt64, 0},
		{math.MaxUint64, math.MinInt64, math.MaxUint64 - 1<<63},
		{math.MaxUint64 - 1, 5, math.MaxUint64},
		{1 << 63, math.MaxInt64, math.MaxUint64},
	} {
		if got := AddClamped(tt.value, tt.noise); got != tt.want {
			t.Errorf("AddClamped(%d, %d) = %d, want %d", tt.value, tt.noise, got, tt.want)
		}
	}
}
