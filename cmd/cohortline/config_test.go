package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func envOf(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

const testSecret = "0123456789abcdef0123456789abcdef"

func TestRunRequiresConfig(t *testing.T) {
	if code, _, errOut := runCLI(t, "", "run"); code != exitUsage || !strings.Contains(errOut, "--config") {
		t.Errorf("run without --config: exit %d, stderr %q", code, errOut)
	}
	missing := filepath.Join(t.TempDir(), "nope.yaml")
	if code, _, errOut := runCLI(t, "", "run", "--config", missing); code != exitUsage || !strings.Contains(errOut, "nope.yaml") {
		t.Errorf("run with a missing file: exit %d, stderr %q", code, errOut)
	}
	_ = os.Remove(missing)
}
