package clickhouse

import (
	"os"
	"testing"
)

// clickhouseAddr returns the real server that integration tests use
// (COHORTLINE_CLICKHOUSE, native protocol, set by `make test` from
// deploy/dev/up). Without it the test is skipped on a workstation, and fails
// in CI, where a missing server means the setup is broken.
func clickhouseAddr(t *testing.T) string {
	t.Helper()
	addr := os.Getenv("COHORTLINE_CLICKHOUSE")
	if addr == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("COHORTLINE_CLICKHOUSE is not set: integration tests need the real server that deploy/dev/up starts")
		}
		t.Skip("COHORTLINE_CLICKHOUSE is not set; run `make test` or `eval \"$(deploy/dev/up)\"` for integration tests")
	}
	return addr
}
