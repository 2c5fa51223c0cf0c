package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const validEvent = `{"v":1,"id":"e1","ts":1764547200000,"user":"AbCdEfGhIjKlMnOpQr","kind":"message_sent","peer":"individual","category":"","media":"text","n":1,"country":"BR","lang":"pt","age":"25-34","platform":"android"}`

// runCLI runs the command line with stdin and returns the exit code and
// what it printed on stdout and stderr.
func runCLI(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(t.Context(), args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

func writeLines(t *testing.T, lines ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "events.ndjson")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestValidateReportsEachInvalidLineAndSummary(t *testing.T) {
	const email = "john.doe@example.com"
	badKind := strings.Replace(validEvent, `"message_sent"`, `"dance"`, 1)
	pii := strings.Replace(validEvent, `"AbCdEfGhIjKlMnOpQr"`, `"`+email+`"`, 1)
	huge := `{"v":1,"pad":"` + strings.Repeat("x", 70<<10) + `"}`
	path := writeLines(t, validEvent, badKind, "", pii, `{"v":1,"id":"e4"`, huge, validEvent)

	code, out, _ := runCLI(t, "", "validate", path)
	if code != exitFailure {
		t.Fatalf("exit %d, want %d; output:\n%s", code, exitFailure, out)
	}
	for _, want := range []string{
		path + ":2: bad_value:kind",
		path + ":4: pii_suspected\n",
		path + ":5: malformed_json",
		path + ":6: too_large",
		path + ": 6 events, 2 valid, 4 invalid",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, email) || strings.Contains(out, "john") {
		t.Errorf("output echoes the suspected PII value:\n%s", out)
	}
	if strings.Contains(out, ":3:") || strings.Contains(out, ":7:") {
		t.Errorf("blank or valid lines reported as invalid:\n%s", out)
	}
}

func TestValidateAllValidFromStdin(t *testing.T) {
	code, out, errOut := runCLI(t, validEvent+"\n"+validEvent, "validate", "-")
	if code != exitOK {
		t.Fatalf("exit %d, want 0; stdout %q stderr %q", code, out, errOut)
	}
	if !strings.Contains(out, "stdin: 2 events, 2 valid, 0 invalid") {
		t.Errorf("summary missing: %q", out)
	}
}

func TestValidateTimeBoundsFlags(t *testing.T) {
	path := writeLines(t, validEvent) // ts is 2025-12-01T00:00:00Z
	if code, out, _ := runCLI(t, "", "validate", "--max-ts", "2025-06-01T00:00:00Z", path); code != exitFailure || !strings.Contains(out, ":1: ts_out_of_range") {
		t.Errorf("--max-ts before the event: exit %d, output %q; want exit 1 with ts_out_of_range", code, out)
	}
	if code, _, errOut := runCLI(t, "", "validate", "--min-ts", "yesterday", path); code != exitUsage || !strings.Contains(errOut, "--min-ts") {
		t.Errorf("bad --min-ts: exit %d, stderr %q; want exit 2 naming the flag", code, errOut)
	}
}

func TestValidateMaxLinesAndQuiet(t *testing.T) {
	bad := `{"v":2}`
	path := writeLines(t, bad, bad, bad)
	_, out, _ := runCLI(t, "", "validate", "--max-lines", "1", path)
	if n := strings.Count(out, ": bad_value:v"); n != 1 {
		t.Errorf("--max-lines 1 printed %d invalid lines:\n%s", n, out)
	}
	if !strings.Contains(out, "(2 invalid lines not printed") {
		t.Errorf("no note of the lines not printed:\n%s", out)
	}
	code, out, _ := runCLI(t, "", "validate", "-q", path)
	if code != exitFailure || strings.Contains(out, ":1:") || !strings.Contains(out, "3 invalid") {
		t.Errorf("--quiet: exit %d, output:\n%s", code, out)
	}
}

func TestExitCodesForUsageAndIOErrors(t *testing.T) {
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"validate", "a", "b"}, exitUsage, "accepts at most 1 arg"},
		{[]string{"no-such-command"}, exitUsage, "unknown command"},
		{[]string{"validate", "--no-such-flag"}, exitUsage, "unknown flag"},
		{[]string{"validate", filepath.Join(t.TempDir(), "missing.ndjson")}, exitFailure, "no such file"},
	}
	for _, c := range cases {
		code, _, errOut := runCLI(t, "", c.args...)
		if code != c.code || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d stderr %q, want exit %d mentioning %q", c.args, code, errOut, c.code, c.want)
		}
	}
}

// Every subcommand must answer --help (exit 0, a usage line).
func TestHelpOnEverySubcommand(t *testing.T) {
	root := newRootCmd()
	for _, sub := range root.Commands() {
		code, out, _ := runCLI(t, "", sub.Name(), "--help")
		if code != exitOK || !strings.Contains(out, "Usage:") {
			t.Errorf("%s --help: exit %d, output %q", sub.Name(), code, out)
		}
	}
}
