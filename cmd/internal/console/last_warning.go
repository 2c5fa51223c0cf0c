package console

import (
	"context"
	"log/slog"
	"sync/atomic"
)

// LastWarning remembers the newest warning or error a logger wrote, so
// that a command that stalls can say why in its one-line message to a
// person (the demo: the pipeline itself retries for ever and only logs).
type LastWarning struct{ msg atomic.Pointer[string] }

// Wrap returns a handler that passes every record on to next and keeps
// the message and "err" of warnings and errors.
func (l *LastWarning) Wrap(next slog.Handler) slog.Handler {
	return warningHandler{next: next, last: l}
}

// String is the last warning, or "" when there was none.
func (l *LastWarning) String() string {
	if p := l.msg.Load(); p != nil {
		return *p
	}
	return ""
}

type warningHandler struct {
	next  slog.Handler
	last  *LastWarning
	attrs []slog.Attr // of WithAttrs, searched for "err" too
}

func (h warningHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return level >= slog.LevelWarn || h.next.Enabled(ctx, level)
}

func (h warningHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelWarn {
		msg := r.Message
		find := func(a slog.Attr) bool {
			if a.Key == "err" {
				msg += ": " + a.Value.String()
				return false
			}
			return true
		}
		for _, a := range h.attrs {
			if !find(a) {
				break
			}
		}
		r.Attrs(find)
		h.last.msg.Store(&msg)
	}
	if !h.next.Enabled(ctx, r.Level) {
		return nil
	}
	return h.next.Handle(ctx, r)
}

func (h warningHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return warningHandler{next: h.next.WithAttrs(attrs), last: h.last, attrs: append(append([]slog.Attr{}, h.attrs...), attrs...)}
}

func (h warningHandler) WithGroup(name string) slog.Handler {
	return warningHandler{next: h.next.WithGroup(name), last: h.last, attrs: h.attrs}
}
