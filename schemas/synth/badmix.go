package synth

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// BadClass is the rejection class a bad record is built to get from the
// decoder: the reason code up to its first ':' ("missing_field" for
// "missing_field:ts").
type BadClass uint8

const (
	BadMalformedJSON BadClass = iota
	BadMissingField
	BadValue
	BadTooLarge
	BadTSOutOfRange
	BadPIISuspected
	NumBadClasses = iota
)

var badClassNames = [NumBadClasses]string{"malformed_json", "missing_field", "bad_value", "too_large", "ts_out_of_range", "pii_suspected"}

// String returns the reason class as the decoder spells it.
func (c BadClass) String() string {
	if int(c) >= len(badClassNames) {
		return "invalid"
	}
	return badClassNames[c]
}

// BadMix weights the rejection classes of bad records. Weights are
// relative (they need not sum to 1); a class with weight 0 never occurs.
type BadMix struct {
	MalformedJSON float64 `yaml:"malformed_json"`
	MissingField  float64 `yaml:"missing_field"`
	BadValue      float64 `yaml:"bad_value"`
	TooLarge      float64 `yaml:"too_large"`
	TSOutOfRange  float64 `yaml:"ts_out_of_range"`
	PIISuspected  float64 `yaml:"pii_suspected"`
}

// DefaultBadMix is roughly what a broken producer fleet sends: mostly
// truncated or mistyped records, fewer oversized ones and PII leaks.
var DefaultBadMix = BadMix{MalformedJSON: 3, MissingField: 2, BadValue: 3, TooLarge: 0.5, TSOutOfRange: 1, PIISuspected: 0.5}

func (m *BadMix) weights() [NumBadClasses]float64 {
	return [NumBadClasses]float64{m.MalformedJSON, m.MissingField, m.BadValue, m.TooLarge, m.TSOutOfRange, m.PIISuspected}
}

func (m *BadMix) set(c BadClass, w float64) {
	switch c {
	case BadMalformedJSON:
		m.MalformedJSON = w
	case BadMissingField:
		m.MissingField = w
	case BadValue:
		m.BadValue = w
	case BadTooLarge:
		m.TooLarge = w
	case BadTSOutOfRange:
		m.TSOutOfRange = w
	case BadPIISuspected:
		m.PIISuspected = w
	}
}

func (m *BadMix) total() float64 {
	var t float64
	for _, w := range m.weights() {
		t += w
	}
	return t
}

func (m *BadMix) validate() error {
	for c, w := range m.weights() {
		if !(w >= 0 && w <= math.MaxFloat32) {
			return &FieldError{"bad_mix." + BadClass(c).String(), fmt.Sprintf("weight %v must be a non-negative number", w)}
		}
	}
	if m.total() == 0 {
		return &FieldError{"bad_mix", "at least one class needs a positive weight"}
	}
	return nil
}

// String formats m as ParseBadMix reads it, classes in a fixed order.
func (m BadMix) String() string {
	var b strings.Builder
	for c, w := range m.weights() {
		if c > 0 {
			b.WriteByte(',')
		}
		b.WriteString(BadClass(c).String())
		b.WriteByte('=')
		b.WriteString(strconv.FormatFloat(w, 'g', -1, 64))
	}
	return b.String()
}

// ParseBadMix reads "class=weight,class=weight" (for a command-line flag).
// Classes not named get weight 0.
func ParseBadMix(s string) (BadMix, error) {
	var m BadMix
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, val, ok := strings.Cut(part, "=")
		if !ok {
			return BadMix{}, fmt.Errorf("%q: want class=weight", part)
		}
		c, ok := parseBadClass(strings.TrimSpace(name))
		if !ok {
			return BadMix{}, fmt.Errorf("unknown class %q (want one of %s)", name, strings.Join(badClassNames[:], ", "))
		}
		w, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
		if err != nil || w < 0 || math.IsInf(w, 0) || math.IsNaN(w) {
			return BadMix{}, fmt.Errorf("class %s: weight %q is not a non-negative number", name, val)
		}
		m.set(c, w)
	}
	if m.total() == 0 {
		return BadMix{}, fmt.Errorf("%q: at least one class needs a positive weight", s)
	}
	return m, nil
}

func parseBadClass(s string) (BadClass, bool) {
	for i, n := range badClassNames {
		if s == n {
			return BadClass(i), true
		}
	}
	return 0, false
}
