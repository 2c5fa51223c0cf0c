package main

// Running the built command in tests: build it, start it as a daemon,
// stop or kill it, read its logs.

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cohortline/cohortline/cmd/internal/configfile"
)

// buildCohortline builds this command into a temporary directory.
func buildCohortline(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "cohortline")
	began := time.Now()
	out, err := exec.CommandContext(t.Context(), "go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	t.Logf("built %s in %v", bin, time.Since(began).Round(time.Millisecond))
	return bin
}

// daemon is `cohortline run` in a process of its own.
type daemon struct {
	cmd  *exec.Cmd
	log  string   // its standard error (JSON log lines)
	exit chan int // its exit code once it exited (-1: killed by a signal); for waitForPartials
	done chan struct{}
}

// startDaemon starts `bin run --config config`, logging into logFile in
// dir; it is killed at cleanup if still running.
func startDaemon(t *testing.T, bin, config, logFile string) *daemon {
	t.Helper()
	return startCommand(t, bin, logFile, "run", "--config", config)
}

// startCommand starts `bin args...` as a daemon, its output into logFile.
func startCommand(t *testing.T, bin, logFile string, args ...string) *daemon {
	t.Helper()
	log, err := os.Create(logFile)
	if err != nil {
		t.Fatal(err)
	}
	d := &daemon{cmd: exec.Command(bin, args...), log: logFile, exit: make(chan int, 1), done: make(chan struct{})}
	d.cmd.Env = append(os.Environ(), configfile.EnvSecret+"=", configfile.EnvClickHousePassword+"=") // development mode's secret
	d.cmd.Stdout, d.cmd.Stderr = log, log
	if err := d.cmd.Start(); err != nil {
		log.Close()
		t.Fatal(err)
	}
	go func() {
		d.cmd.Wait()
		log.Close()
		d.exit <- d.cmd.ProcessState.ExitCode()
		close(d.done)
	}()
	t.Cleanup(d.kill)
	return d
}

// kill sends SIGKILL and waits until the process is gone.
func (d *daemon) kill() {
	d.cmd.Process.Signal(syscall.SIGKILL)
	<-d.done
}

// stop sends SIGTERM and waits up to timeout for the exit; it returns the
// exit code and how long the exit took, or ok=false on timeout.
func (d *daemon) stop(timeout time.Duration) (code int, took time.Duration, ok bool) {
	began := time.Now()
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
		return d.cmd.ProcessState.ExitCode(), time.Since(began), true
	case <-time.After(timeout):
		return 0, time.Since(began), false
	}
}

// logTail returns the last lines of the daemon's log.
func (d *daemon) logTail(lines int) string {
	b, _ := os.ReadFile(d.log)
	return tail(string(b), lines)
}

// logProblems is the last n warnings and errors of the daemon's log: what
// went wrong is often older than the tail.
func (d *daemon) logProblems(n int) string {
	b, _ := os.ReadFile(d.log)
	var problems []string
	for line := range strings.Lines(string(b)) {
		if strings.Contains(line, `"level":"WARN"`) || strings.Contains(line, `"level":"ERROR"`) {
			problems = append(problems, line)
		}
	}
	return strings.Join(problems[max(len(problems)-n, 0):], "")
}

// lockedBuffer collects the logs of an in-process run, which writes them
// from many goroutines while the test may read them.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startRun runs `run --config config` in this process until ctx ends; the
// exit code arrives on the returned channel (buffered, for waitForPartials).
func startRun(ctx context.Context, config string, logs *lockedBuffer) chan int {
	exit := make(chan int, 1)
	go func() { exit <- run(ctx, []string{"run", "--config", config}, bytes.NewReader(nil), logs, logs) }()
	return exit
}

// waitUntil polls cond every 20ms until it holds or timeout passes.
func waitUntil(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}
