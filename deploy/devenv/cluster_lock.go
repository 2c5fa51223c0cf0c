package devenv

import (
	"os"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
)

// The cluster topology is shared by the test packages that `go test ./...`
// runs side by side, and the fault tests kill its nodes. So every test
// that uses it holds a lock on it for its whole run: shared for one that
// only uses it (KafkaCluster, ClickHouseCluster), exclusive for one that
// kills nodes (ClusterForFaults), which then waits for the others to end
// and keeps new ones waiting until the topology is whole again.

var nonWord = regexp.MustCompile(`[^A-Za-z0-9]+`)

// lockCluster takes the lock (LOCK_SH or LOCK_EX) on the topology named
// by the cluster addresses until the test ends. The lock file is in the
// temporary directory, named after the addresses, so that two checkouts
// with topologies on other ports do not wait on each other.
func lockCluster(t testing.TB, addrs string, how int) {
	t.Helper()
	path := filepath.Join(os.TempDir(), "cohortline-cluster-"+nonWord.ReplaceAllString(addrs, "_")+".lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatalf("locking the cluster topology: %v", err)
	}
	if err := syscall.Flock(int(f.Fd()), how); err != nil {
		f.Close()
		t.Fatalf("locking the cluster topology (%s): %v", path, err)
	}
	t.Cleanup(func() { f.Close() }) // closing the file releases the lock
}

// ClusterForFaults returns the addresses of the whole topology, as
// KafkaCluster and ClickHouseCluster do, for a test that kills and
// restarts its nodes: it holds the topology alone until it ends.
func ClusterForFaults(t testing.TB) (brokers, nodes []string, cluster string) {
	t.Helper()
	brokers = kafkaCluster(t)
	nodes, cluster = clickHouseCluster(t)
	lockCluster(t, os.Getenv("COHORTLINE_CH_CLUSTER"), syscall.LOCK_EX)
	return brokers, nodes, cluster
}
