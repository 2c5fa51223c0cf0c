package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestReadRunLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "run.log")
	log := `{"time":"2026-11-25T02:52:26Z","level":"INFO","msg":"consuming","topic":"t"}
gc 1 @0.010s 1%: 0.1+2+0.1 ms clock, 0.2+0/1/2+0.2 ms cpu, 3->4->2 MB, 4 MB goal, 0 MB stacks, 0 MB globals, 2 P
{"time":"2026-11-25T02:52:27Z","level":"INFO","msg":"window flushed","partition":0,"rows":10,"latency_ms":12.5}
gc 2 @0.500s 1%: 0.1+2+0.1 ms clock, 0.2+0/1/2+0.2 ms cpu, 90->95->61 MB, 100 MB goal, 0 MB stacks, 0 MB globals, 2 P
{"time":"2026-11-25T02:52:27Z","level":"INFO","msg":"window flushed","partition":1,"rows":0,"latency_ms":7.5}
not a log line
{"time":"2026-11-25T02:52:28Z","level":"INFO","msg":"sink totals","flushes_written":2,"partials_inserts":1}
`
	if err := os.WriteFile(path, []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	flushes, live, err := readRunLog(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := (flushStats{Count: 2, Latency: 20 * time.Millisecond, Inserts: 1}); flushes != want {
		t.Errorf("flushes = %+v, want %+v", flushes, want)
	}
	if live != 61<<20 {
		t.Errorf("largest live heap = %d, want 61 MiB", live)
	}
}
