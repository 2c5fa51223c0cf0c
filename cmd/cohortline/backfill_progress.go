package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/cohortline/cohortline/pipeline/backfill"
)

// backfillProgress shows a backfill's progress on errOut: on a terminal, a
// bar per partition or file redrawn in place every progressInterval; in a
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
	p := &backfillProgress{w: w, tty: isTerminal(w), src: bf.Progress, began: time.Now(), done: make(chan struct{})}
	interval := backfillLogInterval
	if p.tty {
		interval = progressInterval
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
	state := eta(frac, elapsed)
	if s.Finished {
		state = "done"
	}
	return fmt.Sprintf("%-*s %s %5.1f%%  %9s msgs  %8s  %7s msg/s  %s", width, s.Name, bar, 100*frac,
		count(s.Messages), humanBytes(s.Bytes), humanRate(s.Messages, elapsed), state)
}

// progressSummary is the totals line.
func progressSummary(sources []backfill.SourceProgress, elapsed time.Duration) string {
	all, finished := backfill.Overall(sources)
	msgs, frac := all.Messages, all.Fraction()
	return fmt.Sprintf("%5.1f%%  %d/%d sources done  %s messages  %s  %s msg/s  %s elapsed  %s",
		100*frac, finished, len(sources), count(msgs), humanBytes(all.Bytes), humanRate(msgs, elapsed), seconds(elapsed), eta(frac, elapsed))
}

// eta extrapolates the time left from the fraction done so far.
func eta(frac float64, elapsed time.Duration) string {
	if frac <= 0 || frac >= 1 {
		return "ETA -"
	}
	left := time.Duration(float64(elapsed) * (1 - frac) / frac)
	return "ETA " + left.Round(time.Second).String()
}

// humanBytes spells a byte count shortly: 512 B, 3.4 MB, 1.20 GB.
func humanBytes(n int64) string {
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
