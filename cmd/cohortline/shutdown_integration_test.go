package main

import (
	"context"
	"testing"
	"time"
)

// TestRunShutdown cancels `run` (in this process: what SIGTERM does through
// main's signal context) right after the first window is flushed, while the
// partitions are still being read. run must exit 0 within 10s, and a
// restart in the same group must complete to exactly the reference
// partials: the windows open at the stop are rebuilt from the messages
// after the last commit.
func TestRunShutdown(t *testing.T) {
	set := newFaultSet(t, "shutdown", "--seed", "43", "--users", "3000", "--events", "60000", "--span", "4h",
		"--late", "0.02", "--duplicates", "0.02", "--bad", "0.01", "--drift-share", "0.2")
	config := set.writeConfig(t, "run.yaml", runOptions{})

	ctx, stop := context.WithCancel(t.Context())
	defer stop()
	var logs lockedBuffer
	exit := startRun(ctx, config, &logs)
	if !waitUntil(60*time.Second, func() bool { return set.flushes(t, "") > 0 }) {
		t.Fatalf("no window flushed in 60s; logs:\n%s", tail(logs.String(), 20))
	}
	stop()
	began := time.Now()
	select {
	case code := <-exit:
		if code != exitOK {
			t.Fatalf("run exited %d after cancel; logs:\n%s", code, tail(logs.String(), 20))
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("run still running 10s after cancel; logs:\n%s", tail(logs.String(), 20))
	}
	took := time.Since(began)
	flushed, err := set.flushVersions(t.Context(), set.db)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("run exited 0 %v after cancel, with %d (window, partition) flushed", took.Round(time.Millisecond), len(flushed))

	ctx, stop = context.WithCancel(t.Context())
	defer stop()
	var relogs lockedBuffer
	exit = startRun(ctx, config, &relogs)
	got, err := waitForPartials(t, set.client(t, ""), set.want, 90*time.Second, exit)
	if err != nil {
		t.Fatalf("after the restart: %v\nlogs:\n%s", err, tail(relogs.String(), 20))
	}
	final, err := set.flushVersions(t.Context(), set.db)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("after the restart %d partials equal the reference; %d (window, partition) flushed in all", len(got), len(final))
	if len(flushed) >= len(final) {
		t.Errorf("every window was flushed before the cancel: the shutdown was not mid-stream")
	}
	stop()
	if code := <-exit; code != exitOK {
		t.Errorf("restarted run exited %d after cancel; logs:\n%s", code, tail(relogs.String(), 20))
	}
}
