package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/cohortline/cohortline/sinks/clickhouse"
)

func TestHTTPListenConfig(t *testing.T) {
	const base = "mode: development\nkafka: {brokers: [a:1], topic: t}\n"
	for _, c := range []struct {
		name, yaml, want string
	}{
		{"absent: the loopback default", "", defaultHTTPListen},
		{"empty section: the default", "http: {}\n", defaultHTTPListen},
		{"null: the default", "http: {listen: null}\n", defaultHTTPListen},
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
		{"no port", "http: {listen: localhost}\n", "http.listen (line 3): \"localhost\" is not host:port"},
		{"bad port", "http: {listen: \"127.0.0.1:http\"}\n", "http.listen (line 3): \"127.0.0.1:http\" has no valid port"},
		{"port out of range", "http: {listen: \"127.0.0.1:70000\"}\n", "http.listen (line 3): \"127.0.0.1:70000\" has no valid port"},
		{"unknown key", "http: {address: \"127.0.0.1:1\"}\n", "http.address (line 3): unknown key (known here: listen)"},
		{"not a string", "http: {listen: [a]}\n", "http.listen (line 3): want a single value, not a list or mapping"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := parseConfig([]byte(base+c.yaml), envOf(nil))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

// A taken port fails at start, naming the key.
func TestListenOpsNamesTheKeyWhenThePortIsTaken(t *testing.T) {
	taken, err := listenOps(httpConfig{Listen: "127.0.0.1:0"}, prometheus.NewRegistry(), &readiness{}, discardLog())
	if err != nil {
		t.Fatal(err)
	}
	defer taken.ln.Close()
	_, err = listenOps(httpConfig{Listen: taken.Addr()}, prometheus.NewRegistry(), &readiness{}, discardLog())
	if err == nil || !strings.HasPrefix(err.Error(), "http.listen: ") {
		t.Fatalf("error %v, want one naming http.listen", err)
	}
	if s, err := listenOps(httpConfig{}, nil, nil, nil); s != nil || err != nil {
		t.Fatalf(`listen "" gave %v, %v; want no server`, s, err)
	}
}

type fakeMember struct{ joined atomic.Bool }

func (m *fakeMember) Joined() bool { return m.joined.Load() }

func get(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	body, _ := io.ReadAll(rec.Body)
	return rec.Code, strings.TrimSpace(string(body))
}

// /readyz turns 200 only once ClickHouse is migrated and the consumer has
// joined its group, and back to 503 when the group is lost or the command
// stops; /healthz is 200 until the command stops.
func TestProbesFollowTheRunStates(t *testing.T) {
	ready, member := &readiness{}, &fakeMember{}
	h := opsHandler(prometheus.NewRegistry(), ready)
	type answer struct {
		code   int
		reason string
	}
	steps := []struct {
		name           string
		step           func()
		health, readyz answer
	}{
		{"starting", func() {}, answer{200, "ok"}, answer{503, "clickhouse: not migrated yet"}},
		{"migrated", ready.setMigrated, answer{200, "ok"}, answer{503, "kafka: not a member of the consumer group yet"}},
		{"consumer created", func() { ready.setConsumer(member) }, answer{200, "ok"}, answer{503, "kafka: not a member of the consumer group yet"}},
		{"joined", func() { member.joined.Store(true) }, answer{200, "ok"}, answer{200, "ok"}},
		{"group lost", func() { member.joined.Store(false) }, answer{200, "ok"}, answer{503, "kafka: not a member of the consumer group yet"}},
		{"joined again", func() { member.joined.Store(true) }, answer{200, "ok"}, answer{200, "ok"}},
		{"stopping", ready.setStopping, answer{503, "stopping"}, answer{503, "stopping"}},
	}
	for _, s := range steps {
		s.step()
		if code, body := get(t, h, "/healthz"); code != s.health.code || body != s.health.reason {
			t.Errorf("%s: /healthz %d %q, want %d %q", s.name, code, body, s.health.code, s.health.reason)
		}
		if code, body := get(t, h, "/readyz"); code != s.readyz.code || body != s.readyz.reason {
			t.Errorf("%s: /readyz %d %q, want %d %q", s.name, code, body, s.readyz.code, s.readyz.reason)
		}
	}
}

// /metrics serves the registry `run` builds, with the sink retry counter
// wired to the ClickHouse client's retry hook.
func TestMetricsEndpointServesTheRegistry(t *testing.T) {
	var ch clickhouse.Config
	reg := newOpsRegistry(&ch)
	ch.Retry.OnRetry()
	ch.Retry.OnRetry()
	h := opsHandler(reg, &readiness{})
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

func discardLog() *slog.Logger { return slog.New(slog.DiscardHandler) }

// The server answers on its port while the command runs and is shut down
// with the command's context: the port is closed afterwards.
func TestOpsServerShutsDownWithTheContext(t *testing.T) {
	ready := &readiness{}
	s, err := listenOps(httpConfig{Listen: "127.0.0.1:0"}, prometheus.NewRegistry(), ready, discardLog())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	stop := s.start(ctx)
	url := "http://" + s.Addr() + "/healthz"
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/healthz while running: %d", resp.StatusCode)
	}
	cancel() // the command's context: SIGTERM
	stop()
	if !strings.Contains(func() string { _, r := ready.ready(); return r }(), "stopping") {
		t.Error("readiness not stopping after stop")
	}
	if resp, err := http.Get(url); err == nil {
		resp.Body.Close()
		t.Fatalf("/healthz after shutdown answered %d; want the port closed", resp.StatusCode)
	}
}
