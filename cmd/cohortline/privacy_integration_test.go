package main

import (
	"strings"
	"testing"
	"time"
)

// TestPrivacyPlanMeasuresAWindow: with --window, the plan's activity
// profile comes from that window's partials on the real ClickHouse.
func TestPrivacyPlanMeasuresAWindow(t *testing.T) {
	s := newLedgerSet(t)
	cfg := s.config(t, "plan.yaml", ledgerConfig{})
	code, out, errOut := runCLI(t, "", "privacy", "plan", "--config", cfg, "--window", ledgerFrom.Format(time.RFC3339))
	if code != exitOK || !strings.Contains(out, "activity profile measured from the partials of the window starting") ||
		!strings.Contains(out, "reach, message_sent") || !strings.Contains(out, "per person-day (24 windows)") {
		t.Fatalf("exit %d, stderr %q, stdout:\n%s", code, errOut, out)
	}
	empty := ledgerFrom.Add(-24 * time.Hour).Format(time.RFC3339)
	if code, _, errOut := runCLI(t, "", "privacy", "plan", "--config", cfg, "--window", empty); code != exitFailure || !strings.Contains(errOut, "no partials") {
		t.Errorf("a window without partials: exit %d, stderr %q", code, errOut)
	}
}
