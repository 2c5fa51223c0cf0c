package synth

import (
	"fmt"
	"time"

	"github.com/cohortline/cohortline/schemas"
)

// Config describes a synthetic data set. Every field has a yaml tag so a
// test fixture or a config file can name a data set.
//
// The zero value of a fraction or a skew means what it says (no bad records,
// uniform countries), which is what a pipeline test wants for an exact
// reference; DefaultConfig gives the realistic mix `cohortline gen` starts
// from. Fields whose zero value would be meaningless (Users, Events, Start,
// Span, Jitter, LateDelay, BadMix) get their default from setDefaults.
//
// Every fraction except the per-user ones (MinorShare, DriftShare) and the
// per-event ones (BusinessShare, SensitiveShare) is a share of all records
// emitted, so Bad+Duplicates+Late+OutOfOrder must not exceed 1.
type Config struct {
	// Seed selects the data set: same Config and Seed, same bytes.
	Seed uint64 `yaml:"seed"`
	// Users is the size of the population (default 100000). With a skewed
	// activity some users have no event at all.
	Users int `yaml:"users"`
	// Events is the number of records emitted, bad and duplicate records
	// included (default 1000000).
	Events int64 `yaml:"events"`
	// Start is the event time of the first record (default
	// 2026-11-01T00:00:00Z, fixed so output does not depend on the clock).
	Start time.Time `yaml:"start"`
	// Span is the event-time range the records cover (default 24h).
	Span time.Duration `yaml:"span"`

	// CountrySkew is the Zipf exponent of users over countries ranked by
	// size (0 = uniform; DefaultConfig: 1.0, top country ≈ 23%).
	CountrySkew float64 `yaml:"country_skew"`
	// ActivitySkew is the Zipf exponent of events over users (0 = every
	// user equally active; DefaultConfig: 1.0).
	ActivitySkew float64 `yaml:"activity_skew"`
	// MinorShare is the share of users aged 13-17 (DefaultConfig: 0.05).
	MinorShare float64 `yaml:"minor_share"`
	// DriftShare is the share of users who sometimes switch to a second
	// platform and language, so that "first event wins" matters; a
	// drifting minor's events on the second device say age unknown, so
	// that "a minor is left out of the whole window" matters too
	// (DefaultConfig: 0.02).
	DriftShare float64 `yaml:"drift_share"`
	// BusinessShare is the share of good events with peer=business
	// (DefaultConfig: 0.15).
	BusinessShare float64 `yaml:"business_share"`
	// SensitiveShare is the share of business events whose category is a
	// sensitive one (health, religion, …) (DefaultConfig: 0.03).
	SensitiveShare float64 `yaml:"sensitive_share"`

	// OutOfOrder is the share of records whose event time is up to Jitter
	// before the latest event time already emitted (DefaultConfig: 0.05).
	OutOfOrder float64 `yaml:"out_of_order"`
	// Jitter bounds the displacement of out-of-order events (default 5s).
	Jitter time.Duration `yaml:"jitter"`
	// Late is the share of records whose event time is LateDelay to
	// 2×LateDelay before the latest event time already emitted
	// (DefaultConfig: 0.01).
	Late float64 `yaml:"late"`
	// LateDelay is how far behind a late event is, at least (default 10m).
	LateDelay time.Duration `yaml:"late_delay"`
	// Duplicates is the share of records that re-send a recent event with
	// the same id and bytes, like a producer retry (DefaultConfig: 0.005).
	Duplicates float64 `yaml:"duplicates"`
	// Bad is the share of records the decoder must reject (DefaultConfig:
	// 0.001), split between rejection classes by BadMix.
	Bad float64 `yaml:"bad"`
	// BadMix weights the rejection classes of bad records (default
	// DefaultBadMix).
	BadMix BadMix `yaml:"bad_mix"`
}

// DefaultStart is the default event time of the first record.
var DefaultStart = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// DefaultConfig returns the realistic data set `cohortline gen` produces
// without flags.
func DefaultConfig() Config {
	c := Config{
		Seed:           1,
		CountrySkew:    1.0,
		ActivitySkew:   1.0,
		MinorShare:     0.05,
		DriftShare:     0.02,
		BusinessShare:  0.15,
		SensitiveShare: 0.03,
		OutOfOrder:     0.05,
		Late:           0.01,
		Duplicates:     0.005,
		Bad:            0.001,
	}
	c.setDefaults()
	return c
}

func (c *Config) setDefaults() {
	if c.Users == 0 {
		c.Users = 100000
	}
	if c.Events == 0 {
		c.Events = 1000000
	}
	if c.Start.IsZero() {
		c.Start = DefaultStart
	}
	if c.Span == 0 {
		c.Span = 24 * time.Hour
	}
	if c.Jitter == 0 {
		c.Jitter = 5 * time.Second
	}
	if c.LateDelay == 0 {
		c.LateDelay = 10 * time.Minute
	}
	if c.BadMix.total() == 0 {
		c.BadMix = DefaultBadMix
	}
}

// FieldError reports an invalid Config field. Field is its yaml name
// ("bad", "bad_mix.too_large"), which a command line maps to its flag.
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// maxUsers keeps the population tables (32 bytes of token and ~20 of
// attributes and alias per user) under 1 GiB.
const maxUsers = 1 << 24

// Validate reports the first invalid field as a *FieldError. It checks the
// Config as given; New applies the defaults first.
func (c *Config) Validate() error {
	switch {
	case c.Users < 1 || c.Users > maxUsers:
		return &FieldError{"users", fmt.Sprintf("%d is not in [1, %d]", c.Users, maxUsers)}
	case c.Events < 1:
		return &FieldError{"events", fmt.Sprintf("%d must be at least 1", c.Events)}
	case c.Span < time.Millisecond:
		return &FieldError{"span", fmt.Sprintf("%v must be at least 1ms", c.Span)}
	case c.Jitter < time.Millisecond || c.Jitter > 30*24*time.Hour:
		return &FieldError{"jitter", fmt.Sprintf("%v is not between 1ms and 720h", c.Jitter)}
	case c.LateDelay < time.Millisecond || c.LateDelay > 30*24*time.Hour:
		return &FieldError{"late_delay", fmt.Sprintf("%v is not between 1ms and 720h", c.LateDelay)}
	}
	if err := checkTime(c.Start, c.Span, c.LateDelay); err != nil {
		return err
	}
	for _, s := range []struct {
		name string
		v    float64
	}{{"country_skew", c.CountrySkew}, {"activity_skew", c.ActivitySkew}} {
		if !(s.v >= 0 && s.v <= 10) {
			return &FieldError{s.name, fmt.Sprintf("%v is not a Zipf exponent in [0, 10]", s.v)}
		}
	}
	for _, f := range []struct {
		name string
		v    float64
	}{
		{"minor_share", c.MinorShare}, {"drift_share", c.DriftShare},
		{"business_share", c.BusinessShare}, {"sensitive_share", c.SensitiveShare},
		{"out_of_order", c.OutOfOrder}, {"late", c.Late},
		{"duplicates", c.Duplicates}, {"bad", c.Bad},
	} {
		if !(f.v >= 0 && f.v <= 1) {
			return &FieldError{f.name, fmt.Sprintf("%v is not a fraction in [0, 1]", f.v)}
		}
	}
	if sum := c.Bad + c.Duplicates + c.Late + c.OutOfOrder; sum > 1 {
		return &FieldError{"bad", fmt.Sprintf("bad + duplicates + late + out_of_order = %v exceeds 1", sum)}
	}
	return c.BadMix.validate()
}

// checkTime keeps every event time, late ones included, inside the range
// the decoder accepts by default, so that only ts_out_of_range records are
// rejected for their time.
func checkTime(start time.Time, span, lateDelay time.Duration) error {
	lo, hi := time.UnixMilli(schemas.DefaultMinTS).UTC(), time.UnixMilli(schemas.DefaultMaxTS).UTC()
	if start.Add(-2*lateDelay).Before(lo) || !start.Before(hi) {
		return &FieldError{"start", fmt.Sprintf("%s is not between %s (plus twice late_delay) and %s",
			start.Format(time.RFC3339), lo.Format(time.RFC3339), hi.Format(time.RFC3339))}
	}
	if span > hi.Sub(start) {
		return &FieldError{"span", fmt.Sprintf("%v from %s ends after %s", span, start.Format(time.RFC3339), hi.Format(time.RFC3339))}
	}
	return nil
}
