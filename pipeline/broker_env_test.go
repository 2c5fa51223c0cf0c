package pipeline

import (
	"os"
	"testing"
)

// kafkaAddr returns the real broker that integration tests use
// (COHORTLINE_KAFKA, set by `make test` from deploy/dev/up). Without it the
// test is skipped on a workstation, and fails in CI, where a missing broker
// means the test setup is broken rather than the test being optional.
func kafkaAddr(t *testing.T) string {
	t.Helper()
	addr := os.Getenv("COHORTLINE_KAFKA")
	if addr == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("COHORTLINE_KAFKA is not set: integration tests need the real broker that deploy/dev/up starts")
		}
		t.Skip("COHORTLINE_KAFKA is not set; run `make test` or `eval \"$(deploy/dev/up)\"` for integration tests")
	}
	return addr
}
