package console

import (
	"fmt"
	"io"
	"time"
)

// Interval is how often a running stage redraws its line.
const Interval = 200 * time.Millisecond

// plainInterval is how often a running stage prints a line when the output
// is not a terminal (a CI log, a pipe): often enough to see it move, rarely
// enough to stay readable.
const plainInterval = 5 * time.Second

// Progress prints a command's stages (the demo's), one line each, labelled. On a
// terminal the running stage's line is redrawn in place and stays once the
// stage is done; elsewhere a stage prints its final line when done, and a
// plain line every plainInterval while it runs. Only the demo's goroutine
// calls it.
type Progress struct {
	w     io.Writer
	tty   bool
	now   func() time.Time
	label string    // of the running stage
	last  time.Time // when the stage started or update last printed a plain line
	open  bool      // a redrawable line is on the terminal
}

// NewProgress writes to w, redrawing when w is a terminal.
func NewProgress(w io.Writer) *Progress {
	return &Progress{w: w, tty: IsTerminal(w), now: time.Now}
}

// Update shows the running stage's state.
func (p *Progress) Update(label, format string, args ...any) {
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

// Done prints the stage's final line.
func (p *Progress) Done(label, format string, args ...any) {
	line := progressLine(label, format, args...)
	if p.tty {
		fmt.Fprint(p.w, "\r\033[K")
	}
	fmt.Fprintln(p.w, line)
	p.open, p.label = false, ""
}

// Abandon ends a redrawn line that will not be finished (the command failed
// or was interrupted), so the error message starts on a line of its own.
func (p *Progress) Abandon() {
	if p.open {
		fmt.Fprintln(p.w)
		p.open = false
	}
}

func progressLine(label, format string, args ...any) string {
	return fmt.Sprintf("%-11s ", label) + fmt.Sprintf(format, args...)
}
