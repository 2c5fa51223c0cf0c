package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"time"
)

// progressInterval is how often a running stage redraws its line.
const progressInterval = 200 * time.Millisecond

// plainInterval is how often a running stage prints a line when the output
// is not a terminal (a CI log, a pipe): often enough to see it move, rarely
// enough to stay readable.
const plainInterval = 5 * time.Second

// progress prints the demo's stages, one line each, labelled. On a
// terminal the running stage's line is redrawn in place and stays once the
// stage is done; elsewhere a stage prints its final line when done, and a
// plain line every plainInterval while it runs. Only the demo's goroutine
// calls it.
type progress struct {
	w     io.Writer
	tty   bool
	now   func() time.Time
	label string    // of the running stage
	last  time.Time // when the stage started or update last printed a plain line
	open  bool      // a redrawable line is on the terminal
}

func newProgress(w io.Writer) *progress {
	return &progress{w: w, tty: isTerminal(w), now: time.Now}
}

// update shows the running stage's state.
func (p *progress) update(label, format string, args ...any) {
	line := progressLine(label, format, args...)
	if p.tty {
		fmt.Fprint(p.w, "\r\033[K"+line)
		p.open = true
		return
	}
	now := p.now()
	if label != p.label {
		p.label, p.last = label, now
		return
	}
	if now.Sub(p.last) >= plainInterval {
		p.last = now
		fmt.Fprintln(p.w, line)
	}
}

// done prints the stage's final line.
func (p *progress) done(label, format string, args ...any) {
	line := progressLine(label, format, args...)
	if p.tty {
		fmt.Fprint(p.w, "\r\033[K")
	}
	fmt.Fprintln(p.w, line)
	p.open, p.label = false, ""
}

// abandon ends a redrawn line that will not be finished (the demo failed
// or was interrupted), so the error message starts on a line of its own.
func (p *progress) abandon() {
	if p.open {
		fmt.Fprintln(p.w)
		p.open = false
	}
}

func progressLine(label, format string, args ...any) string {
	return fmt.Sprintf("%-11s ", label) + fmt.Sprintf(format, args...)
}

// isTerminal reports whether w is a character device: a terminal, for
// the demo's purposes (/dev/null too, which takes anything).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// count spells n with thousands separators: 1,000,000.
func count[T int | int64 | uint64](n T) string {
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

// seconds spells a stage's duration: 3.2s.
func seconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + "s"
}
