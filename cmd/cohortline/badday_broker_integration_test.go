package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// envRestartableKafka says that the broker at COHORTLINE_KAFKA is this
// test's to stop and start, through deploy/dev/down and up kafka with the
// environment it was started with (COHORTLINE_STATE_DIR, its ports,
// KAFKA_VERSION). The shared dev broker is not: other tests and people
// use it at the same time. `make test-kafka4` sets it for its own broker,
// after the other tests on that broker have finished.
const envRestartableKafka = "COHORTLINE_KAFKA_RESTARTABLE"

// TestRunBrokerRestart stops the Kafka broker mid-stream, right after the
// first window is flushed, and starts it again: the built binary logs the
// broker's failure once per link, reconnects by itself, and ClickHouse ends
// with exactly the reference partials; no worker is stuck, /readyz is
// ready again, and SIGTERM ends it.
func TestRunBrokerRestart(t *testing.T) {
	if os.Getenv(envRestartableKafka) != "1" {
		t.Skip(envRestartableKafka + "=1 not set: no broker this test may restart (make test-kafka4 runs it on its own broker)")
	}
	set := newFaultSet(t, "brokerrestart", "--seed", "59", "--users", "3000", "--events", "60000", "--span", "4h",
		"--late", "0.02", "--duplicates", "0.02", "--bad", "0.01", "--drift-share", "0.2")
	bin := buildCohortline(t)
	config := set.writeConfig(t, "run.yaml", runOptions{restartBackoff: 500 * time.Millisecond})
	d := startDaemon(t, bin, config, filepath.Join(set.dir, "run.log"))
	http := d.httpAddr(t)
	if !waitUntil(60*time.Second, func() bool { return set.flushes(t, "") > 0 }) {
		t.Fatalf("no window flushed in 60s; log:\n%s", d.logTail(20))
	}
	began := time.Now()
	devScript(t, "down", "kafka")
	stopped := time.Now()
	_, seen := d.waitForEntry(t, 30*time.Second, "Kafka's failure", func(e map[string]any) bool {
		return e["msg"] == "connection failed; retrying" && (e["link"] == "kafka" || e["link"] == "kafka fetch")
	})
	t.Logf("broker stopped in %v; its failure logged %v after it was down", stopped.Sub(began).Round(time.Millisecond),
		max(seen.Sub(stopped), 0).Round(time.Millisecond))
	time.Sleep(3 * time.Second)
	devScript(t, "up", "kafka")
	upAt := time.Now()
	t.Logf("broker down for %v", upAt.Sub(stopped).Round(time.Millisecond))

	got, err := waitForPartials(t, set.client(t, ""), set.want, 180*time.Second, d.exit)
	if err != nil {
		t.Fatalf("%v\nlog:\n%s", err, d.logTail(30))
	}
	t.Logf("%d partials equal the reference %v after the broker was back; %d \"connection failed\" lines, %d recoveries",
		len(got), time.Since(upAt).Round(time.Millisecond), d.count("connection failed; retrying", ""), d.count("connection recovered", ""))
	// Every link that failed has recovered: /readyz is ready again (a
	// fetch link whose worker restarted once stayed failing on it).
	var code int
	var body string
	if !waitUntil(20*time.Second, func() bool { code, body = httpGet(t, "http://"+http+"/readyz"); return code == 200 }) {
		t.Errorf("/readyz %d %q after the broker came back, want 200 ok", code, body)
	}
	code, took := d.stopWithin(t, "after the restart", 10*time.Second)
	t.Logf("SIGTERM: exit %d after %v", code, took.Round(time.Millisecond))
	if code != exitOK {
		t.Errorf("exit %d after SIGTERM, want 0; log:\n%s", code, d.logTail(10))
	}
}

// devScript runs deploy/dev/NAME with args in this process's environment.
func devScript(t *testing.T, name string, args ...string) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), filepath.Join("..", "..", "deploy", "dev", name), args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("deploy/dev/%s %v: %v\n%s", name, args, err, out)
	}
}
