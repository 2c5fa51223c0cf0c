package console

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// Source is the progress of one of a stage's sources (a partition, a
// file), as Sources draws it.
type Source struct {
	Name            string
	Fraction        float64 // read, from 0 to 1
	Messages, Bytes int64
	Finished        bool
}

// Sources shows the progress of several sources at once (a backfill's):
// on a terminal, a bar per source and a totals line, redrawn in place
// every Interval; in a log (CI, a pipe), the totals line every
// SourcesLogInterval.
type Sources struct {
	w     io.Writer
	tty   bool
	label string // of the log lines
	src   func() (sources []Source, total Source)
	began time.Time
	done  chan struct{}
	wg    sync.WaitGroup
	drawn int // lines of the last redraw
}

// SourcesLogInterval is how often Sources prints its totals in a log.
const SourcesLogInterval = 10 * time.Second

// StartSources draws what src says until Stop; label starts the log lines
// ("backfill").
func StartSources(w io.Writer, label string, src func() (sources []Source, total Source)) *Sources {
	p := &Sources{w: w, tty: IsTerminal(w), label: label, src: src, began: time.Now(), done: make(chan struct{})}
	interval := SourcesLogInterval
	if p.tty {
		interval = Interval
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-p.done:
				p.show() // the final state
				return
			case <-t.C:
				p.show()
			}
		}
	}()
	return p
}

// Stop draws the final state and returns once nothing more is written.
func (p *Sources) Stop() {
	close(p.done)
	p.wg.Wait()
}

func (p *Sources) show() {
	sources, total := p.src()
	elapsed := time.Since(p.began)
	if !p.tty {
		fmt.Fprintln(p.w, p.label+": "+SourcesSummary(sources, total, elapsed))
		return
	}
	var b strings.Builder
	if p.drawn > 0 {
		fmt.Fprintf(&b, "\033[%dA", p.drawn) // back to the first line of the last redraw
	}
	width := 0
	for _, s := range sources {
		width = max(width, len(s.Name))
	}
	for _, s := range sources {
		b.WriteString("\r\033[K" + SourceBar(s, width, elapsed) + "\n")
	}
	b.WriteString("\r\033[K" + SourcesSummary(sources, total, elapsed) + "\n")
	p.drawn = len(sources) + 1
	io.WriteString(p.w, b.String())
}

// SourceBar is one source's line: name, bar, percent, messages, bytes,
// rate and ETA.
func SourceBar(s Source, width int, elapsed time.Duration) string {
	const barWidth = 24
	filled := int(s.Fraction * barWidth)
	bar := strings.Repeat("█", filled) + strings.Repeat("░", barWidth-filled)
	state := ETA(s.Fraction, elapsed)
	if s.Finished {
		state = "done"
	}
	return fmt.Sprintf("%-*s %s %5.1f%%  %9s msgs  %8s  %7s msg/s  %s", width, s.Name, bar, 100*s.Fraction,
		Count(s.Messages), Bytes(s.Bytes), Rate(s.Messages, elapsed), state)
}

// SourcesSummary is the totals line.
func SourcesSummary(sources []Source, total Source, elapsed time.Duration) string {
	finished := 0
	for _, s := range sources {
		if s.Finished {
			finished++
		}
	}
	return fmt.Sprintf("%5.1f%%  %d/%d sources done  %s messages  %s  %s msg/s  %s elapsed  %s",
		100*total.Fraction, finished, len(sources), Count(total.Messages), Bytes(total.Bytes), Rate(total.Messages, elapsed), Seconds(elapsed), ETA(total.Fraction, elapsed))
}
