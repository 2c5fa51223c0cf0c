package console

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

// LastWarning keeps the newest warning or error with its err, including
// one given by With, and passes every record on to the next handler.
func TestLastWarning(t *testing.T) {
	var w LastWarning
	var out bytes.Buffer
	log := slog.New(w.Wrap(slog.NewTextHandler(&out, nil)))
	log.Info("window flushed", "partition", 1)
	if got := w.String(); got != "" {
		t.Errorf("after an info: %q", got)
	}
	log.Warn("fetch failed; reconnecting", "partition", 2, "err", errors.New("connection refused"))
	if got, want := w.String(), "fetch failed; reconnecting: connection refused"; got != want {
		t.Errorf("after a warning: %q, want %q", got, want)
	}
	log.With("err", "sink down").Error("partition worker failed")
	if got, want := w.String(), "partition worker failed: sink down"; got != want {
		t.Errorf("after an error: %q, want %q", got, want)
	}
	if n := strings.Count(out.String(), "\n"); n != 3 {
		t.Errorf("the next handler got %d records, want 3:\n%s", n, out.String())
	}
	quiet := slog.New(w.Wrap(slog.DiscardHandler))
	quiet.Warn("sink retry", "err", "timeout")
	if got := w.String(); got != "sink retry: timeout" {
		t.Errorf("with a discarding handler: %q", got)
	}
}
