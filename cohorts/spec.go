package cohorts

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Spec is a cohort spec: which attributes make a cohort, how cohorts are
// generalized when too small, and the windowing and contribution bounds of
// the aggregates. Its version and Hash are part of a release (DESIGN.md,
// privacy invariant 4), so every field that changes published numbers
// belongs here.
//
// A zero or absent field takes the default documented on it (setDefaults);
// ParseSpec applies defaults and validates.
type Spec struct {
	// Version of the spec, chosen by its author; bump it with every change.
	// Default 1.
	Version int `yaml:"version"`
	// Dimensions of a cohort, in key order. A non-empty subset of country,
	// lang, age, platform. Default all four, in that order.
	Dimensions []Dimension `yaml:"dimensions"`
	// Generalize is the order in which dimensions are replaced by "*" when a
	// cohort has fewer than K users: a permutation of Dimensions. Default
	// Dimensions reversed (the last dimension goes first).
	Generalize []Dimension `yaml:"generalize"`
	// K is the minimum number of distinct users of a published row. Default
	// 50; at least 2.
	K int `yaml:"k"`
	// Window is the size of the event-time tumbling windows, a whole number
	// of minutes that divides 24h, so windows never straddle a UTC day (the
	// ClickHouse partition). Default 1h.
	Window time.Duration `yaml:"window"`
	// AllowedLateness is how long after a window's end (in watermark time)
	// its events are still accepted. Default 0; less than Window.
	AllowedLateness time.Duration `yaml:"allowed_lateness"`
	// Bounds clamp each user's contribution per window.
	Bounds Bounds `yaml:"bounds"`
	// Privacy is the differential privacy of published rows.
	Privacy Privacy `yaml:"privacy"`
}

// Privacy is the (ε, δ) of one release of one window (DESIGN.md, privacy
// invariant 4). It lives in the spec because it changes published numbers:
// a new ε is a new release.
type Privacy struct {
	// Epsilon is the budget one release of a window spends, split among
	// the users counts of each generalization level and the values of a
	// published row (cohorts/privacy.Split). Default 4; at most 100.
	// Smaller is more private and noisier; with k = 50, 4 keeps the δ
	// below 10^-8 (see Delta), while 1 would need δ ≈ 0.02.
	Epsilon float64 `yaml:"epsilon"`
	// Delta is the probability allowed for what ε does not cover: a cohort
	// far below k reaching the k threshold by its noise. It must be at
	// least that probability (cohorts/privacy.ThresholdDelta, checked when
	// publishing starts). Default 1e-6; less than 0.01.
	Delta float64 `yaml:"delta"`
}

// Bounds are per-user, per-window contribution bounds: a user counts at most
// this much towards a cohort's sums, which bounds the sensitivity that the
// differential-privacy noise is scaled to.
type Bounds struct {
	// Events counted per user per window (the "events" feature and per-kind
	// sums). Default 100.
	Events int64 `yaml:"events"`
	// CallSeconds summed per user per window. Default 3600.
	CallSeconds int64 `yaml:"call_seconds"`
}

// Defaults of the fields of Spec.
const (
	DefaultVersion     = 1
	DefaultK           = 50
	DefaultWindow      = time.Hour
	DefaultEvents      = 100
	DefaultCallSeconds = 3600
	DefaultEpsilon     = 4.0
	DefaultDelta       = 1e-6
)

// DefaultSpec returns the spec that an empty YAML document gives.
func DefaultSpec() Spec {
	var s Spec
	s.setDefaults()
	return s
}

// setDefaults fills zero fields. A nil list is "absent"; an explicitly
// empty one stays empty and fails Validate.
func (s *Spec) setDefaults() {
	if s.Version == 0 {
		s.Version = DefaultVersion
	}
	if s.Dimensions == nil {
		s.Dimensions = []Dimension{DimCountry, DimLang, DimAge, DimPlatform}
	}
	if s.Generalize == nil {
		s.Generalize = make([]Dimension, len(s.Dimensions))
		for i, d := range s.Dimensions {
			s.Generalize[len(s.Dimensions)-1-i] = d
		}
	}
	if s.K == 0 {
		s.K = DefaultK
	}
	if s.Window == 0 {
		s.Window = DefaultWindow
	}
	if s.Bounds.Events == 0 {
		s.Bounds.Events = DefaultEvents
	}
	if s.Bounds.CallSeconds == 0 {
		s.Bounds.CallSeconds = DefaultCallSeconds
	}
	if s.Privacy.Epsilon == 0 {
		s.Privacy.Epsilon = DefaultEpsilon
	}
	if s.Privacy.Delta == 0 {
		s.Privacy.Delta = DefaultDelta
	}
}

// ParseSpec decodes a YAML cohort spec strictly (an unknown or repeated key
// fails, naming it and its line), applies defaults and validates it.
// Durations are Go duration strings ("1h", "5m").
func ParseSpec(data []byte) (Spec, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var s Spec
	if err := dec.Decode(&s); err != nil {
		if errors.Is(err, io.EOF) {
			return Spec{}, errors.New("cohort spec: empty document")
		}
		return Spec{}, fmt.Errorf("cohort spec: %s", yamlMessage(err))
	}
	var next yaml.Node
	if err := dec.Decode(&next); err == nil {
		return Spec{}, fmt.Errorf("cohort spec: line %d: a second YAML document; want exactly one", next.Line)
	} else if !errors.Is(err, io.EOF) {
		return Spec{}, fmt.Errorf("cohort spec: %s", yamlMessage(err))
	}
	s.setDefaults()
	if err := s.Validate(); err != nil {
		return Spec{}, err
	}
	return s, nil
}

// yamlMessage flattens yaml.v3's multi-line "yaml: unmarshal errors:\n  line
// 9: field foo not found in type cohorts.Spec" to its line messages.
func yamlMessage(err error) string {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		return strings.Join(te.Errors, "; ")
	}
	return strings.TrimPrefix(err.Error(), "yaml: ")
}

// Validate reports the first problem of s, naming the key and the reason.
// It does not apply defaults: validate what ParseSpec or DefaultSpec gave.
func (s Spec) Validate() error {
	if err := s.validate(); err != nil {
		return fmt.Errorf("cohort spec: %w", err)
	}
	return nil
}

func (s Spec) validate() error {
	if s.Version < 1 {
		return fmt.Errorf("version: %d, want at least 1", s.Version)
	}
	if err := validateDimensions(s.Dimensions); err != nil {
		return err
	}
	if err := validateGeneralize(s.Generalize, s.Dimensions); err != nil {
		return err
	}
	if s.K < 2 {
		return fmt.Errorf("k: %d, want at least 2", s.K)
	}
	if err := validateWindow(s.Window, s.AllowedLateness); err != nil {
		return err
	}
	if s.Bounds.Events < 1 {
		return fmt.Errorf("bounds.events: %d, want at least 1", s.Bounds.Events)
	}
	if s.Bounds.CallSeconds < 1 {
		return fmt.Errorf("bounds.call_seconds: %d, want at least 1", s.Bounds.CallSeconds)
	}
	// !(x > 0) also catches NaN.
	if e := s.Privacy.Epsilon; !(e > 0) || e > 100 {
		return fmt.Errorf("privacy.epsilon: %g, want more than 0 and at most 100", e)
	}
	if d := s.Privacy.Delta; !(d > 0) || d >= 0.01 {
		return fmt.Errorf("privacy.delta: %g, want more than 0 and less than 0.01", d)
	}
	return nil
}

func validateDimensions(ds []Dimension) error {
	if len(ds) == 0 {
		return fmt.Errorf("dimensions: empty, want some of %s", joinDims(knownDims[:], ", "))
	}
	var seen Level
	for _, d := range ds {
		i, ok := d.index()
		if !ok {
			return fmt.Errorf("dimensions: %q is not a known dimension (known: %s)", d, joinDims(knownDims[:], ", "))
		}
		if seen&(1<<i) != 0 {
			return fmt.Errorf("dimensions: %q is listed twice", d)
		}
		seen |= 1 << i
	}
	return nil
}

// validateGeneralize checks that gen is a permutation of dims (which are
// valid): every dimension must have its turn, or the top of the
// generalization chain would not be a single all-"*" cohort.
func validateGeneralize(gen, dims []Dimension) error {
	var inDims, seen Level
	for _, d := range dims {
		i, _ := d.index()
		inDims |= 1 << i
	}
	for _, d := range gen {
		i, ok := d.index()
		if !ok || inDims&(1<<i) == 0 {
			return fmt.Errorf("generalize: %q is not a dimension (dimensions: %s)", d, joinDims(dims, ", "))
		}
		if seen&(1<<i) != 0 {
			return fmt.Errorf("generalize: %q is listed twice", d)
		}
		seen |= 1 << i
	}
	for _, d := range dims {
		if !seen.Has(d) {
			return fmt.Errorf("generalize: %q is missing (generalize must list every dimension once)", d)
		}
	}
	return nil
}

func validateWindow(window, lateness time.Duration) error {
	const day = 24 * time.Hour
	switch {
	case window <= 0:
		return fmt.Errorf("window: %s, want a positive duration", fmtDuration(window))
	case window%time.Minute != 0:
		return fmt.Errorf("window: %s, want a whole number of minutes", fmtDuration(window))
	case window > day || day%window != 0:
		return fmt.Errorf("window: %s does not divide 24h (windows must align to day partitions)", fmtDuration(window))
	case lateness < 0:
		return fmt.Errorf("allowed_lateness: %s, want at least 0", fmtDuration(lateness))
	case lateness%time.Millisecond != 0:
		return fmt.Errorf("allowed_lateness: %s, want whole milliseconds (event times are in ms)", fmtDuration(lateness))
	case lateness >= window:
		return fmt.Errorf("allowed_lateness: %s, want less than window (%s)", fmtDuration(lateness), fmtDuration(window))
	}
	return nil
}

// fmtDuration spells d as a person would write it in the spec: "1h", not
// "1h0m0s".
func fmtDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}
