package main

import (
	"time"

	"github.com/cohortline/cohortline/cmd/internal/console"
	"github.com/cohortline/cohortline/cohorts"
)

// timeLayouts are the one set of time forms every command accepts (publish,
// backfill, lookup, validate, gen, demo): RFC 3339 with a zone, or a date
// and time without one, taken as UTC, or a date (its midnight UTC).
var timeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", time.DateOnly}

// timeForms is how errors show timeLayouts.
const timeForms = "want 2026-11-01T10:00:00Z, 2026-11-01T10:00 (UTC) or 2026-11-01"

// parseTimeFlag reads the value of a time flag (flag is "--from" etc.) of
// command cmd ("publish"); a bad value is a usage error that names both.
func parseTimeFlag(cmd, flag, s string) (time.Time, error) {
	for _, layout := range timeLayouts {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, usageErrorf("%s: %s: %q is not a time: %s", cmd, flag, s, timeForms)
}

// parseWindowFlag reads a time flag that must start a window of the given
// size, and says which starts are near when it does not.
func parseWindowFlag(cmd, flag, s string, size time.Duration) (time.Time, error) {
	t, err := parseTimeFlag(cmd, flag, s)
	if err != nil {
		return time.Time{}, err
	}
	if w := cohorts.WindowOf(t.UnixMilli(), size); w.Start != t.UnixMilli() {
		return time.Time{}, usageErrorf("%s: %s: %s does not start a window: windows of %s start at %s, %s …",
			cmd, flag, s, console.Duration(size), w, time.UnixMilli(w.End).UTC().Format(time.RFC3339))
	}
	return t, nil
}
