package console

import (
	"bytes"
	"testing"
	"time"
)

func TestProgressOnATerminal(t *testing.T) {
	var buf bytes.Buffer
	p := &Progress{w: &buf, tty: true, now: time.Now}
	p.Update("produced", "%d of %d", 1, 2)
	p.Update("produced", "%d of %d", 2, 2)
	p.Done("produced", "all %d", 2)
	p.Update("consumed", "half")
	p.Abandon()
	want := "\r\033[Kproduced    1 of 2" + "\r\033[Kproduced    2 of 2" + "\r\033[Kproduced    all 2\n" +
		"\r\033[Kconsumed    half\n"
	if got := buf.String(); got != want {
		t.Errorf("terminal output %q, want %q", got, want)
	}
}

// Elsewhere (a CI log, a pipe) a stage prints its final line, and a line
// every plainInterval while it runs; nothing to redraw, nothing to end.
func TestProgressInALog(t *testing.T) {
	var buf bytes.Buffer
	clock := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	p := &Progress{w: &buf, now: func() time.Time { return clock }}
	p.Update("produced", "0")
	clock = clock.Add(plainInterval - time.Millisecond)
	p.Update("produced", "1")
	clock = clock.Add(time.Millisecond)
	p.Update("produced", "2")
	clock = clock.Add(time.Second)
	p.Update("produced", "3")
	p.Done("produced", "done")
	p.Update("consumed", "0")
	p.Abandon()
	if got, want := buf.String(), "produced    2\nproduced    done\n"; got != want {
		t.Errorf("log output %q, want %q", got, want)
	}
}

func TestCount(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -1000: "-1,000", 100000: "100,000"} {
		if got := Count(n); got != want {
			t.Errorf("Count(%d) = %q, want %q", n, got, want)
		}
	}
}
