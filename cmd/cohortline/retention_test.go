package main

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestRetentionCutoff(t *testing.T) {
	now := time.Date(2026, 12, 4, 5, 30, 0, 0, time.UTC)
	day := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
	for _, tc := range []struct {
		opts retentionOptions
		open time.Duration
		want time.Time
		err  string
	}{
		{retentionOptions{keep: "30d"}, 25 * time.Hour, day("2026-11-04"), ""},
		{retentionOptions{keep: "48h"}, 25 * time.Hour, day("2026-12-02"), ""},
		{retentionOptions{keep: "1d"}, 2 * time.Hour, day("2026-12-03"), ""},
		{retentionOptions{before: "2026-10-01"}, 25 * time.Hour, day("2026-10-01"), ""},
		// 24 h windows with 1 h lateness: the cutoff today would drop
		// yesterday's window, which closes at 01:00 today in event time
		// and may still be open at 05:30 (the check is conservative by a
		// window)
		{retentionOptions{before: "2026-12-04"}, 25 * time.Hour, time.Time{}, "may still be open: the latest cutoff now is 2026-12-03"},
		{retentionOptions{before: "2026-12-05"}, time.Hour, time.Time{}, "may still be open"},
		{retentionOptions{}, time.Hour, time.Time{}, "one of --keep and --before"},
		{retentionOptions{keep: "30d", before: "2026-10-01"}, time.Hour, time.Time{}, "one of --keep and --before"},
		{retentionOptions{keep: "0d"}, time.Hour, time.Time{}, "at least 1 day"},
		{retentionOptions{keep: "36h"}, time.Hour, time.Time{}, "whole days"},
		{retentionOptions{keep: "thirty"}, time.Hour, time.Time{}, "whole days"},
		{retentionOptions{keep: "xd"}, time.Hour, time.Time{}, "not a number of days"},
		{retentionOptions{before: "2026-10-01T10:00:00Z"}, time.Hour, time.Time{}, "not a day"},
		{retentionOptions{before: "October"}, time.Hour, time.Time{}, "is not a time"},
	} {
		got, err := retentionCutoff(tc.opts, now, tc.open)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%+v: %v, want an error with %q", tc.opts, err, tc.err)
			} else if ue := (usageError{}); !errors.As(err, &ue) {
				t.Errorf("%+v: %v is not a usage error (exit 2)", tc.opts, err)
			}
			continue
		}
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("%+v: %v, %v; want %v", tc.opts, got, err, tc.want)
		}
	}
}
