package main

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cohortline/cohortline/deploy/devenv"
)

// TestRunSaysWhatIsWrongAtOnce starts the built binary against a server it
// cannot use: a Kafka address nothing listens on, one whose name does not
// resolve, one that accepts and stays silent, and a ClickHouse nothing
// listens on. Before issue 17 a bad broker address logged nothing for
// minutes. Now, for each: the first failure is logged within one dial
// timeout (10s for Kafka, 5s for ClickHouse) with the link, the address
// and the cause; the retries that follow are not logged one by one while
// /readyz counts them; SIGTERM ends it with exit 0; and with --fail-fast
// it exits 1 on its own, naming the address and the cause.
func TestRunSaysWhatIsWrongAtOnce(t *testing.T) {
	clickhouse := devenv.ClickHouse(t)
	bin := buildCohortline(t)
	db := fmt.Sprintf("it_badconnect_%d", time.Now().UnixNano())
	t.Cleanup(func() { dropDatabases(t, clickhouse, db, db+"_published") })
	const kafkaDial, chDial = 10 * time.Second, 5 * time.Second // pipeline's adminTimeout, clickhouse.DefaultDialTimeout
	for _, tc := range []struct {
		name, brokers, clickhouse string
		link, addr, cause         string
		within                    time.Duration
	}{
		{"kafka refused", "127.0.0.1:1", clickhouse, "kafka", "127.0.0.1:1", "connection refused", kafkaDial},
		{"kafka unknown host", "kafka.invalid:9092", clickhouse, "kafka", "kafka.invalid:9092", "no such host", kafkaDial},
		{"kafka silent", silentBroker(t), clickhouse, "kafka", "", "", kafkaDial},
		{"clickhouse refused", "127.0.0.1:1", closedPort(t), "clickhouse", "", "connection refused", chDial},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			addr := cmp.Or(tc.addr, tc.brokers)
			if tc.link == "clickhouse" {
				addr = tc.clickhouse
			}
			config := minimalConfig(t, dir, tc.brokers, "it-badconnect", tc.clickhouse, db)
			began := time.Now()
			d := startDaemon(t, bin, config, filepath.Join(dir, "run.log"))
			http := d.httpAddr(t)
			first, seen := d.waitForEntry(t, tc.within+5*time.Second, "a connection failure", func(e map[string]any) bool {
				return e["msg"] == "connection failed; retrying" && e["link"] == tc.link
			})
			took := seen.Sub(began)
			t.Logf("first failure logged %v after start: %v", took.Round(time.Millisecond), first["err"])
			if first["addr"] != addr || !strings.Contains(first["err"].(string), tc.cause) {
				t.Errorf("logged addr %v, err %v; want addr %s and a cause with %q", first["addr"], first["err"], addr, tc.cause)
			}
			if took > tc.within+time.Second {
				t.Errorf("first failure logged %v after start, want within the dial timeout %v (and start-up)", took, tc.within)
			}
			// The retries go on, unlogged: /readyz counts them.
			var body string
			if !waitUntil(30*time.Second, func() bool {
				var code int
				code, body = httpGet(t, "http://"+http+"/readyz")
				return code == 503 && strings.HasPrefix(body, tc.link+": ") && !strings.Contains(body, "(since 0s, 1 attempts)") &&
					strings.Contains(body, " attempts)")
			}) {
				t.Fatalf("/readyz %q, want 503 naming %s, the cause and more than one attempt", body, tc.link)
			}
			if n := d.count("connection failed; retrying", tc.link); n != 1 {
				t.Errorf("%d \"connection failed\" lines for %s, want 1 (then one per cause or per 30s)", n, tc.link)
			}
			t.Logf("/readyz: %s", body)
			code, stopped := d.stopWithin(t, tc.name, 10*time.Second)
			t.Logf("SIGTERM while retrying: exit %d after %v", code, stopped.Round(time.Millisecond))
			if code != exitOK {
				t.Errorf("exit %d after SIGTERM, want 0; log:\n%s", code, d.logTail(10))
			}

			began = time.Now()
			ff := startCommand(t, bin, filepath.Join(dir, "failfast.log"), "run", "--config", config, "--fail-fast")
			select {
			case <-ff.done:
			case <-time.After(tc.within + 10*time.Second):
				t.Fatalf("run --fail-fast still running after %v; log:\n%s", time.Since(began), ff.logTail(10))
			}
			out, _ := os.ReadFile(ff.log)
			last := tail(string(out), 1)
			t.Logf("--fail-fast: exit %d after %v: %s", ff.cmd.ProcessState.ExitCode(), time.Since(began).Round(time.Millisecond), last)
			if ff.cmd.ProcessState.ExitCode() != exitFailure || !strings.Contains(last, tc.link+" at "+addr+": ") ||
				!strings.Contains(last, tc.cause) || !strings.Contains(last, "--fail-fast") {
				t.Errorf("run --fail-fast: exit %d, last line %q; want 1 and the link, address and cause", ff.cmd.ProcessState.ExitCode(), last)
			}
		})
	}
}
