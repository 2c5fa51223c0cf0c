package main

import (
	"strings"
	"testing"

	"github.com/cohortline/cohortline/cmd/internal/configfile"
)

// TestPrivacyPlan: the plan of the defaults and of a config, without any
// server; a config whose budget cannot be met fails naming the key.
func TestPrivacyPlan(t *testing.T) {
	code, out, errOut := runCLI(t, "", "privacy", "plan")
	if code != exitOK {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	for _, want := range []string{"feature set 2, window 24h0m0s", "sum.kind", "n = 5000", "per person-day (1 windows): rho 0.4, epsilon 5.38 at delta 1e-08"} {
		if !strings.Contains(out, want) {
			t.Errorf("plan lacks %q:\n%s", want, out)
		}
	}
	hourly := writeConfig(t, "cohorts: {window: 1h, feature_set: 1}\n")
	if code, out, errOut := runCLI(t, "", "privacy", "plan", "--config", hourly); code != exitOK || !strings.Contains(out, "per person-day (24 windows)") || !strings.Contains(out, "epsilon 96") {
		t.Errorf("hourly feature set 1: exit %d, stderr %q, stdout:\n%s", code, errOut, out)
	}
	bad := writeConfig(t, "cohorts: {window: 1h}\n")
	if code, _, errOut := runCLI(t, "", "privacy", "plan", "--config", bad); code == exitOK || !strings.Contains(errOut, "cohorts.privacy.delta") {
		t.Errorf("hourly feature set 2 at the default rho: exit %d, stderr %q; want the delta check", code, errOut)
	}
}

func TestPublishBudgetAllowance(t *testing.T) {
	const base = "kafka: {brokers: [127.0.0.1:1], topic: activity}\nmode: development\n"
	cfg, err := configfile.Parse([]byte(base+"publish: {budget: {day: {epsilon: 6, delta: 1e-9}}}\n"), envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if b := cfg.File.Publish.Budgets(); b.Day.Epsilon != 6 || b.Day.Delta != 1e-9 || !b.Week.IsZero() {
		t.Errorf("budget %+v", b)
	}
	if _, err := configfile.Parse([]byte(base+"publish: {budget: {week: {epsilon: 6}}}\n"), envOf(nil)); err == nil || !strings.Contains(err.Error(), "publish.budget.week") {
		t.Errorf("a week allowance without delta: %v", err)
	}
}
