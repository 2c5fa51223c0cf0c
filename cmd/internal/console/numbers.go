// Package console is what Cohortline's commands print for a person at a
// terminal: numbers spelled shortly (counts, rates, sizes, durations) and
// a stage's progress line, redrawn in place on a terminal and printed now
// and then in a log. Both binaries (cohortline, cohortbench) use it.
package console

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// Count spells n with thousands separators: 1,000,000.
func Count[T int | int64 | uint64](n T) string {
	s := strconv.FormatInt(int64(n), 10)
	neg := s[0] == '-'
	if neg {
		s = s[1:]
	}
	out := make([]byte, 0, len(s)+len(s)/3+1)
	if neg {
		out = append(out, '-')
	}
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}

// Short spells v shortly: 1.20M, 827k, 12.
func Short(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.2fM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.0fk", v/1e3)
	default:
		return fmt.Sprintf("%.0f", v)
	}
}

// PerSecond is n per took, per second (0 for no time).
func PerSecond(n int64, took time.Duration) float64 {
	if took <= 0 {
		return 0
	}
	return float64(n) / took.Seconds()
}

// Rate spells n per took, per second, shortly: 827k, 1.20M.
func Rate(n int64, took time.Duration) string {
	return Short(float64(n) / max(took.Seconds(), 1e-9))
}

// Seconds spells a stage's duration: 3.2s.
func Seconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + "s"
}

// Bytes spells a byte count shortly: 512 B, 3.4 MB, 1.20 GB.
func Bytes(n int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.2f GB", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	}
	return fmt.Sprintf("%d B", n)
}

// Duration spells a window size as a cohort spec does: "1h", "30m", not
// "1h0m0s".
func Duration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// ETA extrapolates the time left from the fraction done so far.
func ETA(frac float64, elapsed time.Duration) string {
	if frac <= 0 || frac >= 1 {
		return "ETA -"
	}
	left := time.Duration(float64(elapsed) * (1 - frac) / frac)
	return "ETA " + left.Round(time.Second).String()
}

// IsTerminal reports whether w is a character device: a terminal, for
// these purposes (/dev/null too, which takes anything).
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
