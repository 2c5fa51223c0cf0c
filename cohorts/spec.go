package cohorts

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
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
	// ClickHouse partition). Default 24h: one daily release, which spends a
	// person's daily budget once instead of 24 times (see Privacy.Rho).
	Window time.Duration `yaml:"window"`
	// AllowedLateness is how long after a window's end (in watermark time)
	// its events are still accepted. Default 0; less than Window.
	AllowedLateness time.Duration `yaml:"allowed_lateness"`
	// Bounds clamp each user's contribution per window.
	Bounds Bounds `yaml:"bounds"`
	// FeatureSet is the published feature vector layout: 1 (92 slots, one
	// per kind, peer, media and category, pure ε) or 2 (45 slots, category
	// groups, zCDP; see FeatureSetOf). Default 2.
	FeatureSet int `yaml:"feature_set"`
	// Privacy is the differential privacy of published rows.
	Privacy Privacy `yaml:"privacy"`
}

// Privacy is the (ε, δ) of one release of one window (DESIGN.md, privacy
// invariant 4). It lives in the spec because it changes published numbers:
// a new ε is a new release.
type Privacy struct {
	// Epsilon is, for feature set 1 only, the pure-ε budget one release of
	// a window spends, split among
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
	// Rho is, for feature set 2, the zCDP budget ρ one release of a window
	// spends, split among Blocks by weight (cohorts/privacy.SplitZCDP).
	// Default 0.4 per 24h, scaled by Window/24h (0.4 for the daily window,
	// 0.4/24 for hourly ones), so that a person active all day spends ρ 0.4,
	// ε ≈ 5.4 at δ = 10^-8, per day with one release of each window. At
	// most 10.
	Rho float64 `yaml:"rho"`
	// Blocks overrides the budget share of each block of feature set 2's
	// rows, by block name: users, reach, sum.kind, sum.category_group,
	// hist, sum.call_seconds. A block left out keeps its default.
	Blocks map[string]BlockBudget `yaml:"blocks"`
}

// BlockBudget is how one block of a feature set 2 row is noised.
type BlockBudget struct {
	// Weight is the block's share of Rho relative to the other blocks'
	// weights. Defaults (DefaultBlockWeights): users 30, reach 25,
	// sum.kind 20, sum.category_group 10, hist 10, sum.call_seconds 5.
	Weight float64 `yaml:"weight"`
	// Off publishes nothing for the block's slots (NaN) and spends none of
	// the budget on them. The users block cannot be off.
	Off bool `yaml:"off"`
	// Mechanism is "gaussian" (the default) or "laplace".
	Mechanism string `yaml:"mechanism"`
}

// BlockNames are the blocks of a feature set 2 row, in slot order.
var BlockNames = []string{"users", "reach", "sum.kind", "sum.category_group", "hist", "sum.call_seconds"}

// DefaultBlockWeights are the default weights of BlockNames: the users
// count gets the most because it decides the k threshold and every
// per-user ratio; reach (25 slots of sensitivity 1) next; the event sums
// by kind carry the activity; groups, histogram and call seconds less.
var DefaultBlockWeights = map[string]float64{
	"users": 30, "reach": 25, "sum.kind": 20, "sum.category_group": 10, "hist": 10, "sum.call_seconds": 5,
}

// DefaultMechanism is the mechanism of a block that names none.
const DefaultMechanism = "gaussian"

// DefaultRhoPerDay is the ρ per 24h of windows that Privacy.Rho defaults
// to.
const DefaultRhoPerDay = 0.4

// DefaultRho is the default Privacy.Rho for windows of size window.
func DefaultRho(window time.Duration) float64 {
	return DefaultRhoPerDay * float64(window) / float64(24*time.Hour)
}

// Block returns the effective budget of block name: the spec's override
// with defaults filled in.
func (p Privacy) Block(name string) BlockBudget {
	b := p.Blocks[name]
	if b.Weight == 0 {
		b.Weight = DefaultBlockWeights[name]
	}
	if b.Mechanism == "" {
		b.Mechanism = DefaultMechanism
	}
	return b
}

// Bounds are per-user, per-window contribution bounds: a user counts at most
// this much towards a cohort's sums, which bounds the sensitivity that the
// differential-privacy noise is scaled to.
type Bounds struct {
	// Events counted per user per window (the "events" feature and per-kind
	// sums). Default 25: the 95th percentile of events per active user per
	// day in the generated realistic day (schemas/synth); the bound clamps
	// the 5% heaviest users, the sensitivity of every sum falls 4× from
	// 100.
	Events int64 `yaml:"events"`
	// CallSeconds summed per user per window. Default 600: the 90th
	// percentile of a caller's daily call seconds there.
	CallSeconds int64 `yaml:"call_seconds"`
}

// Defaults of the fields of Spec.
const (
	DefaultVersion     = 1
	DefaultK           = 50
	DefaultWindow      = 24 * time.Hour
	DefaultEvents      = 25
	DefaultCallSeconds = 600
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
	if s.FeatureSet == 0 {
		s.FeatureSet = DefaultFeatureSet
	}
	if s.Privacy.Rho == 0 && s.Window > 0 {
		s.Privacy.Rho = DefaultRho(s.Window)
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
	if _, err := FeatureSetOf(s.FeatureSet); err != nil {
		return fmt.Errorf("feature_set: %d, want 1 or 2", s.FeatureSet)
	}
	return s.Privacy.validateZCDP(s.FeatureSet)
}

// validateZCDP checks rho and blocks, which feature set 2 uses.
func (p Privacy) validateZCDP(featureSet int) error {
	if r := p.Rho; !(r > 0) || r > 10 {
		return fmt.Errorf("privacy.rho: %g, want more than 0 and at most 10", r)
	}
	if len(p.Blocks) > 0 && featureSet != FeatureSetV2Version {
		return fmt.Errorf("privacy.blocks: set for feature_set %d; blocks apply to feature_set 2 only (feature set 1 splits privacy.epsilon)", featureSet)
	}
	for name, b := range p.Blocks {
		if _, ok := DefaultBlockWeights[name]; !ok {
			return fmt.Errorf("privacy.blocks: %q is not a block (blocks: %s)", name, strings.Join(BlockNames, ", "))
		}
		switch {
		case math.IsNaN(b.Weight) || math.IsInf(b.Weight, 0) || b.Weight < 0:
			return fmt.Errorf("privacy.blocks.%s.weight: %g, want a positive number", name, b.Weight)
		case b.Off && name == "users":
			return fmt.Errorf("privacy.blocks.users.off: the users count decides the k threshold and cannot be off")
		case b.Mechanism != "" && b.Mechanism != "gaussian" && b.Mechanism != "laplace":
			return fmt.Errorf("privacy.blocks.%s.mechanism: %q, want gaussian or laplace", name, b.Mechanism)
		}
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
