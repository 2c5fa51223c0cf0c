package main

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestTimeFlagForms: every command's time flags take the same forms, and
// a zone other than UTC is converted, not dropped.
func TestTimeFlagForms(t *testing.T) {
	ten := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"2026-11-01T10:00:00Z":      ten,
		"2026-11-01T10:00:00.5Z":    ten.Add(500 * time.Millisecond),
		"2026-11-01T12:00:00+02:00": ten,
		"2026-11-01T10:00:00":       ten,
		"2026-11-01T10:00":          ten,
		"2026-11-01":                ten.Add(-10 * time.Hour),
	} {
		got, err := parseTimeFlag("publish", "--from", in)
		if err != nil || !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("parseTimeFlag(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "yesterday", "2026-11-01 10:00", "1730455200", "2026-13-01"} {
		_, err := parseTimeFlag("lookup", "--window", bad)
		var usage usageError
		if !errors.As(err, &usage) || !strings.HasPrefix(err.Error(), "lookup: --window: ") {
			t.Errorf("parseTimeFlag(%q) = %v, want a usage error naming the command and flag", bad, err)
		}
	}
}

func TestWindowFlagMustStartAWindow(t *testing.T) {
	if got, err := parseWindowFlag("backfill", "--to", "2026-11-01T10:00", time.Hour); err != nil || got.Hour() != 10 {
		t.Errorf("a window start: %v, %v", got, err)
	}
	_, err := parseWindowFlag("backfill", "--to", "2026-11-01T10:15", 30*time.Minute)
	want := "backfill: --to: 2026-11-01T10:15 does not start a window: windows of 30m start at 2026-11-01T10:00:00Z, 2026-11-01T10:30:00Z"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("error %v, want %q", err, want)
	}
}
