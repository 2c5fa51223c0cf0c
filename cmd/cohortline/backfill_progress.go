package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/cohortline/cohortline/cmd/internal/console"
	"github.com/cohortline/cohortline/pipeline/backfill"
)

// backfillProgress shows a backfill's progress on errOut: on a terminal, a
// bar per partition or file redrawn in place every console.Interval; in a
// log (CI, a pipe), one line with the totals every backfillLogInterval.
type backfillProgress struct {
	w     io.Writer
	tty   bool
	src   func() []backfill.SourceProgress
	began time.Time
	done  chan struct{}
	wg    sync.WaitGroup
	drawn int // lines of the last redraw
}

const backfillLogInterval = 10 * time.Second

func startBackfillProgress(w io.Writer, bf *backfill.Job) *backfillProgress {
	p := &backfillProgress{w: w, tty: console.IsTerminal(w), src: bf.Progress, began: time.Now(), done: make(chan struct{})}
	interval := backfillLogInterval
	if p.tty {
		interval = console.Interval
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

// stop draws the final state and returns once nothing more is written.
func (p *backfillProgress) stop() {
	close(p.done)
	p.wg.Wait()
}

func (p *backfillProgress) show() {
	sources := p.src()
	elapsed := time.Since(p.began)
	if !p.tty {
		fmt.Fprintln(p.w, "backfill: "+progressSummary(sources, elapsed))
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
		b.WriteString("\r\033[K" + progressBar(s, width, elapsed) + "\n")
	}
	b.WriteString("\r\033[K" + progressSummary(sources, elapsed) + "\n")
	p.drawn = len(sources) + 1
	io.WriteString(p.w, b.String())
}

// progressBar is one source's line: name, bar, percent, messages, bytes,
// rate and ETA.
func progressBar(s backfill.SourceProgress, width int, elapsed time.Duration) string {
	const barWidth = 24
	frac := s.Fraction()
	filled := int(frac * barWidth)
	bar := strings.Repeat("█", filled) + strings.Repeat("░", barWidth-filled)
	state := console.ETA(frac, elapsed)
	if s.Finished {
		state = "done"
	}
	return fmt.Sprintf("%-*s %s %5.1f%%  %9s msgs  %8s  %7s msg/s  %s", width, s.Name, bar, 100*frac,
		console.Count(s.Messages), console.Bytes(s.Bytes), console.Rate(s.Messages, elapsed), state)
}

// progressSummary is the totals line.
func progressSummary(sources []backfill.SourceProgress, elapsed time.Duration) string {
	all, finished := backfill.Overall(sources)
	msgs, frac := all.Messages, all.Fraction()
	return fmt.Sprintf("%5.1f%%  %d/%d sources done  %s messages  %s  %s msg/s  %s elapsed  %s",
		100*frac, finished, len(sources), console.Count(msgs), console.Bytes(all.Bytes), console.Rate(msgs, elapsed), console.Seconds(elapsed), console.ETA(frac, elapsed))
}
