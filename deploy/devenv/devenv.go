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
	"strings"
	"syscall"
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

// KafkaCluster returns the three brokers of `deploy/dev/up cluster`
// (replication factor 3, min.insync.replicas 2) from
// COHORTLINE_KAFKA_CLUSTER.
// It holds the topology's shared lock until the test ends (cluster_lock.go).
func KafkaCluster(t testing.TB) []string {
	t.Helper()
	brokers := kafkaCluster(t)
	lockCluster(t, os.Getenv("COHORTLINE_CH_CLUSTER"), syscall.LOCK_SH)
	return brokers
}

func kafkaCluster(t testing.TB) []string {
	t.Helper()
	return strings.Split(require(t, "COHORTLINE_KAFKA_CLUSTER", "three-broker Kafka cluster (deploy/dev/up cluster)"), ",")
}

// ClickHouseCluster returns the native addresses of the four servers of
// `deploy/dev/up cluster`, shard by shard (s1r1, s1r2, s2r1, s2r2), from
// COHORTLINE_CH_CLUSTER, and the remote_servers name of their cluster
// from COHORTLINE_CH_CLUSTER_NAME.
// It holds the topology's shared lock until the test ends (cluster_lock.go).
func ClickHouseCluster(t testing.TB) (addrs []string, cluster string) {
	t.Helper()
	addrs, cluster = clickHouseCluster(t)
	lockCluster(t, os.Getenv("COHORTLINE_CH_CLUSTER"), syscall.LOCK_SH)
	return addrs, cluster
}

func clickHouseCluster(t testing.TB) (addrs []string, cluster string) {
	t.Helper()
	addrs = strings.Split(require(t, "COHORTLINE_CH_CLUSTER", "2x2 ClickHouse cluster (deploy/dev/up cluster)"), ",")
	return addrs, require(t, "COHORTLINE_CH_CLUSTER_NAME", "2x2 ClickHouse cluster (deploy/dev/up cluster)")
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

// The targeter's read-only account that deploy/dev/clickhouse.sh writes into
// the dev server's users.xml: SELECT only (readonly=1), on the published
// database and on the fixed databases below.
const (
	TargeterUser = "targeter"
	// DevTargeterPassword is the account's password unless
	// COHORTLINE_TARGETER_PASSWORD gave deploy/dev/up another. It is public:
	// dev servers only.
	DevTargeterPassword = "targeter-dev-only"
)

// The published databases the dev targeter account may read besides
// cohortline_published, one per test package that logs in as the
// targeter: ClickHouse 18.16 grants databases by exact name, and every
// other test uses a database with a unique name. A test using one drops
// and recreates it, so tests sharing one must not run in parallel.
const (
	TargeterDatabaseSinks = "itp_targeter_sinks" // sinks/clickhouse
	TargeterDatabaseCLI   = "itp_targeter_cli"   // cmd/cohortline
)

// TargeterPassword returns the dev targeter account's password: the
// COHORTLINE_TARGETER_PASSWORD that deploy/dev/up was given, which the
// test must see too, or DevTargeterPassword.
func TargeterPassword() string {
	if pw := os.Getenv("COHORTLINE_TARGETER_PASSWORD"); pw != "" {
		return pw
	}
	return DevTargeterPassword
}
