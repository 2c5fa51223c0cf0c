package main

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/cohortline/cohortline/cmd/internal/configfile"
	"github.com/cohortline/cohortline/pipeline/ops"
	"github.com/cohortline/cohortline/sinks/clickhouse"
)

func TestHTTPListenConfig(t *testing.T) {
	const base = "mode: development\nkafka: {brokers: [a:1], topic: t}\n"
	for _, c := range []struct {
		name, yaml, want string
	}{
		{"absent: the loopback default", "", ops.DefaultListen},
		{"empty section: the default", "http: {}\n", ops.DefaultListen},
		{"null: the default", "http: {listen: null}\n", ops.DefaultListen},
		{"empty string disables", "http: {listen: \"\"}\n", ""},
		{"all interfaces", "http: {listen: \"0.0.0.0:9464\"}\n", "0.0.0.0:9464"},
		{"any free port", "http: {listen: \"127.0.0.1:0\"}\n", "127.0.0.1:0"},
		{"ipv6 loopback", "http: {listen: \"[::1]:9464\"}\n", "[::1]:9464"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := configfile.Parse([]byte(base+c.yaml), envOf(nil))
			if err != nil {
				t.Fatal(err)
			}
			if cfg.File.HTTP.Listen != c.want {
				t.Errorf("http.listen = %q, want %q", cfg.File.HTTP.Listen, c.want)
			}
		})
	}
}

func TestHTTPListenConfigErrorsNameTheKey(t *testing.T) {
	const base = "mode: development\nkafka: {brokers: [a:1], topic: t}\n"
	for _, c := range []struct {
		name, yaml, want string
	}{
		{"no port", "http: {listen: localhost}\n", "http.listen (line 3): \"localhost\" is not host:port"},
		{"bad port", "http: {listen: \"127.0.0.1:http\"}\n", "http.listen (line 3): \"127.0.0.1:http\" has no valid port"},
		{"port out of range", "http: {listen: \"127.0.0.1:70000\"}\n", "http.listen (line 3): \"127.0.0.1:70000\" has no valid port"},
		{"unknown key", "http: {address: \"127.0.0.1:1\"}\n", "http.address (line 3): unknown key (known here: listen)"},
		{"not a string", "http: {listen: [a]}\n", "http.listen (line 3): want a single value, not a list or mapping"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := configfile.Parse([]byte(base+c.yaml), envOf(nil))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

// The registry `run` serves has the runtime collectors and the sink retry
// counter, wired to the ClickHouse client's retry hook (ops.Handler serves
// it on /metrics: pipeline/ops tests that).
func TestOpsRegistry(t *testing.T) {
	var ch clickhouse.Config
	reg := newOpsRegistry(&ch)
	ch.Retry.OnRetry()
	ch.Retry.OnRetry()
	want := `# HELP cohortline_sink_retries_total ClickHouse operations tried again after a retryable error (writes of partials and progress, reads, migrations).
# TYPE cohortline_sink_retries_total counter
cohortline_sink_retries_total 2
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "cohortline_sink_retries_total"); err != nil {
		t.Error(err)
	}
	for _, name := range []string{"go_goroutines", "process_cpu_seconds_total"} {
		if n, err := testutil.GatherAndCount(reg, name); err != nil || n != 1 {
			t.Errorf("%s: %d series, %v", name, n, err)
		}
	}
}
