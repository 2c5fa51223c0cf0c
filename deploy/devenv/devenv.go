// Package devenv gives integration tests the addresses of the real Kafka
// broker and ClickHouse server that deploy/dev/up starts on loopback, read
// from the environment variables that `eval "$(deploy/dev/up)"` exports.
//
// Without a variable the test is skipped on a workstation (`make test-unit`)
// and fails in CI (CI=true), where a missing server means the setup is
// broken, not that the test is optional.
package devenv

import (
	"os"
	"testing"
)

// Kafka returns the broker address from COHORTLINE_KAFKA.
func Kafka(t testing.TB) string {
	t.Helper()
	return require(t, "COHORTLINE_KAFKA", "Kafka broker")
}

// ClickHouse returns the native-protocol address from COHORTLINE_CLICKHOUSE.
func ClickHouse(t testing.TB) string {
	t.Helper()
	return require(t, "COHORTLINE_CLICKHOUSE", "ClickHouse server")
}

func require(t testing.TB, variable, server string) string {
	t.Helper()
	addr := os.Getenv(variable)
	if addr != "" {
		return addr
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not set: integration tests need the real %s that deploy/dev/up starts (make test does)", variable, server)
	}
	t.Skipf("%s is not set; run `make test`, or `eval \"$(deploy/dev/up)\"` first, for integration tests against a real %s", variable, server)
	return ""
}
