package ops

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
)

func discardLog() *slog.Logger { return slog.New(slog.DiscardHandler) }

// A taken port fails at start, naming the key.
func TestListenNamesTheKeyWhenThePortIsTaken(t *testing.T) {
	taken, err := Listen(Config{Listen: "127.0.0.1:0"}, prometheus.NewRegistry(), &Readiness{}, discardLog())
	if err != nil {
		t.Fatal(err)
	}
	defer taken.ln.Close()
	_, err = Listen(Config{Listen: taken.Addr()}, prometheus.NewRegistry(), &Readiness{}, discardLog())
	if err == nil || !strings.HasPrefix(err.Error(), "http.listen: ") {
		t.Fatalf("error %v, want one naming http.listen", err)
	}
	if s, err := Listen(Config{}, nil, nil, nil); s != nil || err != nil {
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
	ready, member := &Readiness{}, &fakeMember{}
	h := Handler(prometheus.NewRegistry(), ready)
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
		{"migrated", ready.SetMigrated, answer{200, "ok"}, answer{503, "kafka: not a member of the consumer group yet"}},
		{"consumer created", func() { ready.SetConsumer(member) }, answer{200, "ok"}, answer{503, "kafka: not a member of the consumer group yet"}},
		{"joined", func() { member.joined.Store(true) }, answer{200, "ok"}, answer{200, "ok"}},
		{"group lost", func() { member.joined.Store(false) }, answer{200, "ok"}, answer{503, "kafka: not a member of the consumer group yet"}},
		{"joined again", func() { member.joined.Store(true) }, answer{200, "ok"}, answer{200, "ok"}},
		{"stopping", ready.SetStopping, answer{503, "stopping"}, answer{503, "stopping"}},
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

// The server answers on its port while the command runs and is shut down
// with the command's context: the port is closed afterwards.
func TestServerShutsDownWithTheContext(t *testing.T) {
	ready := &Readiness{}
	s, err := Listen(Config{Listen: "127.0.0.1:0"}, prometheus.NewRegistry(), ready, discardLog())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	stop := s.Start(ctx)
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
		t.Error("Readiness not stopping after stop")
	}
	if resp, err := http.Get(url); err == nil {
		resp.Body.Close()
		t.Fatalf("/healthz after shutdown answered %d; want the port closed", resp.StatusCode)
	}
}

// /metrics serves the registry given, and nothing else is served.
func TestHandlerServesTheRegistry(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "ops_test_total", Help: "a test counter"})
	reg.MustRegister(c)
	c.Add(3)
	h := Handler(reg, &Readiness{})
	if code, body := get(t, h, "/metrics"); code != http.StatusOK || !strings.Contains(body, "ops_test_total 3") {
		t.Errorf("/metrics: %d %s", code, body)
	}
	if code, _ := get(t, h, "/"); code != http.StatusNotFound {
		t.Errorf("/: %d, want 404", code)
	}
}
