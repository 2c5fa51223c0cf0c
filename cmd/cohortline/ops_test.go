package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

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
			cfg, err := parseConfig([]byte(base+c.yaml), envOf(nil))
			if err != nil {
				t.Fatal(err)
			}
			if cfg.file.HTTP.Listen != c.want {
				t.Errorf("http.listen = %q, want %q", cfg.file.HTTP.Listen, c.want)
			}
		})
	}
}

func TestHTTPListenConfigErrorsNameTheKey(t *testing.T) {
	const base = "mode: development\nkafka: {brokers: [a:1], topic: t}\n"
	for _, c := range []struct {
		name, yaml, want string
	}{
		{"no port", "http: {listen: localhost}\n", "http.listen: \"localhost\" is not host:port"},
		{"bad port", "http: {listen: \"127.0.0.1:http\"}\n", "http.listen: \"127.0.0.1:http\" has no valid port"},
		{"port out of range", "http: {listen: \"127.0.0.1:70000\"}\n", "http.listen: \"127.0.0.1:70000\" has no valid port"},
		{"unknown key", "http: {address: \"127.0.0.1:1\"}\n", "field address not found"},
		{"not a string", "http: {listen: [a]}\n", "cannot unmarshal"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := parseConfig([]byte(base+c.yaml), envOf(nil))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

// /metrics serves the registry `run` builds, with the sink retry counter
// wired to the ClickHouse client's retry hook.
func TestMetricsEndpointServesTheRegistry(t *testing.T) {
	var ch clickhouse.Config
	reg := newOpsRegistry(&ch)
	ch.Retry.OnRetry()
	ch.Retry.OnRetry()
	h := ops.Handler(reg, &ops.Readiness{})
	code, body := get(t, h, "/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d %s", code, body)
	}
	for _, want := range []string{"cohortline_sink_retries_total 2", "go_goroutines ", "process_cpu_seconds_total "} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if n, err := testutil.GatherAndCount(reg, "cohortline_sink_retries_total"); err != nil || n != 1 {
		t.Errorf("cohortline_sink_retries_total: %d series, %v", n, err)
	}
	if code, _ := get(t, h, "/"); code != http.StatusNotFound {
		t.Errorf("/: %d, want 404", code)
	}
}

func get(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	body, _ := io.ReadAll(rec.Body)
	return rec.Code, strings.TrimSpace(string(body))
}
