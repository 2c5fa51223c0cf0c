package synth

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestDefaultConfigIsValid(t *testing.T) {
	cfg := DefaultConfig()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("DefaultConfig().Validate() = %v", err)
	}
	if cfg.Users != 100000 || cfg.Events != 1000000 || !cfg.Start.Equal(DefaultStart) || cfg.Span != 24*time.Hour {
		t.Errorf("DefaultConfig() = %+v, want 100000 users, 1000000 events from %v over 24h", cfg, DefaultStart)
	}
}

func TestZeroConfigMeansCleanDataSet(t *testing.T) {
	g, err := New(Config{Events: 5000, Users: 100})
	if err != nil {
		t.Fatalf("New(zero config) = %v", err)
	}
	for {
		r, ok := g.Next()
		if !ok {
			break
		}
		if r.Kind != RecordEvent || r.Timing != InOrder {
			t.Fatalf("zero config gave a %v %v record; want only in-order events", r.Kind, r.Timing)
		}
	}
}

func TestValidateNamesTheField(t *testing.T) {
	tests := []struct {
		field string
		edit  func(*Config)
	}{
		{"bad", func(c *Config) { c.Bad = 2 }},
		{"bad", func(c *Config) { c.Bad, c.Duplicates, c.Late, c.OutOfOrder = 0.5, 0.3, 0.2, 0.1 }},
		{"duplicates", func(c *Config) { c.Duplicates = -0.1 }},
		{"late", func(c *Config) { c.Late = 1.5 }},
		{"out_of_order", func(c *Config) { c.OutOfOrder = 3 }},
		{"minor_share", func(c *Config) { c.MinorShare = 1.01 }},
		{"business_share", func(c *Config) { c.BusinessShare = -1 }},
		{"drift_share", func(c *Config) { c.DriftShare = 2 }},
		{"sensitive_share", func(c *Config) { c.SensitiveShare = 7 }},
		{"country_skew", func(c *Config) { c.CountrySkew = -1 }},
		{"activity_skew", func(c *Config) { c.ActivitySkew = 11 }},
		{"users", func(c *Config) { c.Users = -5 }},
		{"users", func(c *Config) { c.Users = maxUsers + 1 }},
		{"events", func(c *Config) { c.Events = -1 }},
		{"span", func(c *Config) { c.Span = -time.Hour }},
		{"span", func(c *Config) { c.Span = 200 * 365 * 24 * time.Hour }},
		{"start", func(c *Config) { c.Start = time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC) }},
		{"late_delay", func(c *Config) { c.LateDelay = -time.Second }},
		{"jitter", func(c *Config) { c.Jitter = time.Microsecond }},
		{"bad_mix.too_large", func(c *Config) { c.BadMix.TooLarge = -1 }},
	}
	for _, tt := range tests {
		cfg := DefaultConfig()
		tt.edit(&cfg)
		_, err := New(cfg)
		var fe *FieldError
		if !errors.As(err, &fe) {
			t.Errorf("%s: New = %v, want a *FieldError", tt.field, err)
			continue
		}
		if fe.Field != tt.field || !strings.HasPrefix(err.Error(), tt.field+": ") {
			t.Errorf("New = %q (field %q), want field %q", err, fe.Field, tt.field)
		}
	}
}

func TestParseBadMix(t *testing.T) {
	m, err := ParseBadMix("malformed_json=2, pii_suspected=0.5")
	if err != nil {
		t.Fatal(err)
	}
	if want := (BadMix{MalformedJSON: 2, PIISuspected: 0.5}); m != want {
		t.Errorf("ParseBadMix = %+v, want %+v", m, want)
	}
	back, err := ParseBadMix(DefaultBadMix.String())
	if err != nil || back != DefaultBadMix {
		t.Errorf("ParseBadMix(%q) = %+v, %v; want DefaultBadMix", DefaultBadMix.String(), back, err)
	}
	for _, s := range []string{"", "bogus=1", "too_large", "too_large=-1", "too_large=x", "too_large=0"} {
		if _, err := ParseBadMix(s); err == nil {
			t.Errorf("ParseBadMix(%q) = nil error, want one", s)
		}
	}
}
