package main

import (
	"strings"
	"testing"
)

// TestRedriveFlagErrors: flags that cannot work are usage errors (exit 2)
// that say why, before any connection.
func TestRedriveFlagErrors(t *testing.T) {
	config := writeTestConfig(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"redrive"}, "--config FILE is required"},
		{[]string{"redrive", "--config", config, "--reason", "pii_suspected"}, "reason pii_suspected cannot be re-driven: its dead letters carry no key or payload"},
		{[]string{"redrive", "--config", config, "--reason", "bad_value,typo"}, `reason "typo" is unknown: the reasons are too_large, malformed_json, duplicate_field:<field>, missing_field:<field>, bad_value:<field>, ts_out_of_range, key_mismatch`},
		{[]string{"redrive", "--config", config, "--reason", "bad_value:colour"}, `"colour" is not a field of event v1`},
		{[]string{"redrive", "--config", config, "--from-offset", "10", "--to-offset", "10"}, "the range holds no dead letter: to offset 10 is not after from offset 10"},
		{[]string{"redrive", "--config", config, "--from-offset", "-1"}, "offsets are 0 or more"},
		{[]string{"redrive", "--config", config, "--from", "2026-11-02", "--to", "2026-11-01"}, "the range holds no dead letter: to 2026-11-01T00:00:00Z is not after from 2026-11-02T00:00:00Z"},
		{[]string{"redrive", "--config", config, "--from", "yesterday"}, `redrive: --from: "yesterday" is not a time`},
		{[]string{"redrive", "--config", config, "--partition", "x"}, `invalid argument "x" for "--partition"`},
	} {
		code, _, errOut := runCLI(t, "", tc.args...)
		if code != exitUsage || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, %q; want exit %d and %q", tc.args, code, errOut, exitUsage, tc.want)
		}
	}
}
