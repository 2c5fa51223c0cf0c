package main

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/cohortline/cohortline/deploy/devenv"
)

func TestMigratePrintRendersWithoutConnecting(t *testing.T) {
	t.Setenv("COHORTLINE_CLICKHOUSE", closedAddr(t)) // nothing there: print must not dial
	code, out, errOut := runCLI(t, "", "migrate", "--print", "--database", "cl", "--published-database", "clp")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"-- ==== 0001_cohort_partials.sql ====",
		"CREATE TABLE IF NOT EXISTS cl.cohort_partials\n",
		"CREATE VIEW IF NOT EXISTS clp.cohort_enrichment_latest AS",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("--print output lacks %q", want)
		}
	}

	code, out, _ = runCLI(t, "", "migrate", "--print", "--cluster", "analytics", "--zookeeper-path", "/ch")
	if code != exitOK || !strings.Contains(out, "CREATE TABLE IF NOT EXISTS cohortline.cohort_partials_local ON CLUSTER `analytics`") ||
		!strings.Contains(out, "ReplicatedReplacingMergeTree('/ch/{shard}/cohortline/cohort_partials_local', '{replica}', flush_version)") {
		t.Errorf("--print --cluster: exit %d, output:\n%s", code, out)
	}
}

func TestMigrateUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"migrate", "--database", "a b"},
		{"migrate", "--database", "same", "--published-database", "same"},
		{"migrate", "--clickhouse", "no-port"},
		{"migrate", "--cluster", "c", "--zookeeper-path", "relative", "--print"},
		{"migrate", "extra-arg"},
	} {
		code, _, errOut := runCLI(t, "", args...)
		if code != exitUsage {
			t.Errorf("%v: exit %d, want %d; stderr: %s", args, code, exitUsage, errOut)
		}
	}
}

func TestMigrateUnreachableServerNamesAddress(t *testing.T) {
	addr := closedAddr(t)
	t.Setenv("COHORTLINE_CLICKHOUSE_PASSWORD", "s3cret-pw")
	code, out, errOut := runCLI(t, "", "migrate", "--clickhouse", addr)
	if code != exitFailure {
		t.Errorf("exit %d, want %d", code, exitFailure)
	}
	if !strings.Contains(errOut, "connecting to ClickHouse at "+addr) || !strings.Contains(errOut, "connection refused") {
		t.Errorf("stderr %q: want the address and the cause", errOut)
	}
	if strings.Contains(out+errOut, "s3cret-pw") {
		t.Errorf("the password was printed")
	}
}

func TestMigrateAppliesOnceOnRealServer(t *testing.T) {
	addr := devenv.ClickHouse(t)
	suffix := fmt.Sprint(time.Now().UnixNano() % 1e9)
	db, pub := "it_cli_"+suffix, "itp_cli_"+suffix
	t.Cleanup(func() { dropDatabases(t, addr, db, pub) })
	t.Setenv("COHORTLINE_CLICKHOUSE", addr) // the flag's default

	code, out, errOut := runCLI(t, "", "migrate", "--database", db, "--published-database", pub)
	if code != exitOK {
		t.Fatalf("first migrate: exit %d: %s", code, errOut)
	}
	if !strings.HasPrefix(out, "applied 0001_cohort_partials.sql\napplied 0002_window_progress.sql\n") {
		t.Errorf("first migrate printed:\n%s", out)
	}
	code, out, errOut = runCLI(t, "", "migrate", "--database", db, "--published-database", pub)
	if code != exitOK || out != "up to date: "+db+" and "+pub+"\n" {
		t.Errorf("second migrate: exit %d, printed %q %s", code, out, errOut)
	}
}

func closedAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func dropDatabases(t testing.TB, addr string, dbs ...string) {
	conn, err := ch.Open(&ch.Options{Addr: []string{addr}, Protocol: ch.Native})
	if err != nil {
		t.Error(err)
		return
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, db := range dbs {
		if err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+db); err != nil {
			t.Errorf("dropping %s: %v", db, err)
		}
	}
}
