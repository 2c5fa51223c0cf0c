package devenv

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// ChDB is one session of chDB, a current ClickHouse release as a library
// (pip package chdb-core), run by deploy/chdb/driver.py in a Python
// process of its own: statements go in one at a time and run in the same
// session, so databases, tables and SET settings last from one to the
// next. It is safe for concurrent use; statements are serialised.
type ChDB struct {
	// Version is the ClickHouse version chDB reports, e.g. "26.9.2.1".
	Version string

	mu     sync.Mutex // one statement at a time
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *bufio.Reader
	stderr lockedBuffer // what the driver says on stderr: Python's errors
}

// ChDBError is a statement chDB refused, with ClickHouse's error code.
type ChDBError struct {
	Code    int    // ClickHouse's code: 62 for a syntax error, 36 for bad arguments …; 0 if none was given
	Message string // as chDB words it, "Code: 62. DB::Exception: …"
}

func (e *ChDBError) Error() string { return e.Message }

var chdbCode = regexp.MustCompile(`Code: (\d+)\.`)

// StartChDB starts a chDB session with its data in a temporary folder,
// ended at the test's cleanup. The Python interpreter is the virtual
// environment that `deploy/dev/up chdb` makes: $COHORTLINE_CHDB, else
// .state/chdb/bin/python of this checkout. Without one the test is
// skipped on a workstation and fails in CI (CI=true), like the servers.
func StartChDB(t testing.TB) *ChDB {
	t.Helper()
	python := chdbPython(t)
	driver := filepath.Join(sourceDir(t), "..", "chdb", "driver.py")
	cmd := exec.Command(python, driver, t.TempDir())
	// The dev server's zone: DateTime is shown, and toDate(window_start)
	// partitions, in UTC.
	cmd.Env = append(os.Environ(), "TZ=UTC")
	s := &ChDB{cmd: cmd}
	cmd.Stderr = &s.stderr
	var err error
	if s.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s.stdout = bufio.NewReaderSize(out, 1<<20)
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting chDB (%s %s): %v", python, driver, err)
	}
	t.Cleanup(func() {
		s.stdin.Close()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	var hello struct{ Version string }
	if err := s.read(&hello); err != nil {
		t.Fatalf("starting chDB (%s %s): %v", python, driver, err)
	}
	s.Version = hello.Version
	return s
}

// Run runs one statement and returns its result in format (a ClickHouse
// output format such as JSONCompact; "" for TSV). A refused statement
// returns a *ChDBError; a broken session any other error.
func (s *ChDB) Run(sql, format string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	req, err := json.Marshal(map[string]string{"sql": sql, "format": format})
	if err != nil {
		return "", err
	}
	if _, err := s.stdin.Write(append(req, '\n')); err != nil {
		return "", fmt.Errorf("sending a statement to chDB: %w (stderr: %s)", err, s.stderr.text())
	}
	var ans struct {
		OK    bool
		Data  string
		Error string
	}
	if err := s.read(&ans); err != nil {
		return "", err
	}
	if !ans.OK {
		e := &ChDBError{Message: ans.Error}
		if m := chdbCode.FindStringSubmatch(ans.Error); m != nil {
			e.Code, _ = strconv.Atoi(m[1])
		}
		return "", e
	}
	return ans.Data, nil
}

// read decodes the driver's next line into v; the caller holds s.mu, or
// is StartChDB before anyone else can.
func (s *ChDB) read(v any) error {
	line, err := s.stdout.ReadBytes('\n')
	if err != nil {
		return fmt.Errorf("reading chDB's answer: %w (stderr: %s)", err, s.stderr.text())
	}
	if err := json.Unmarshal(line, v); err != nil {
		return fmt.Errorf("chDB's answer %.200q: %w", line, err)
	}
	return nil
}

// chdbPython finds the virtual environment's interpreter or skips.
func chdbPython(t testing.TB) string {
	t.Helper()
	python := os.Getenv("COHORTLINE_CHDB")
	if python == "" {
		python = filepath.Join(sourceDir(t), "..", "..", ".state", "chdb", "bin", "python")
	}
	if _, err := os.Stat(python); err == nil {
		return python
	} else if !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("no chDB at %s: the compatibility test needs the environment that deploy/dev/up chdb makes (make test does), and COHORTLINE_CHDB naming its python", python)
	}
	t.Skipf("no chDB at %s; run `deploy/dev/up chdb` (make test does) for the compatibility test against a current ClickHouse", python)
	return ""
}

// sourceDir is this file's folder: deploy/chdb and .state are found from
// it, whichever package's test runs.
func sourceDir(t testing.TB) string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("BUG: no source path for deploy/devenv")
	}
	return filepath.Dir(file)
}

// lockedBuffer collects the driver's stderr, written by exec's copying
// goroutine while a statement reads it for an error message.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (w *lockedBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *lockedBuffer) text() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.TrimSpace(w.b.String())
}
