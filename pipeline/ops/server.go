package ops

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Config is the `http` section of the config file: where `run` serves
// /metrics, /healthz and /readyz.
type Config struct {
	// Listen is host:port; default 127.0.0.1:9464 (loopback: expose it on
	// purpose, e.g. 0.0.0.0:9464 in a container). "" disables the server.
	// Port 0 takes a free port (tests); the log line "http: serving" names it.
	Listen string `yaml:"listen"`
}

// DefaultListen is Prometheus' conventional exporter port, on loopback.
const DefaultListen = "127.0.0.1:9464"

// shutdownTimeout bounds the wait for in-flight requests (a scrape) when
// the command stops: short, since SIGTERM must end the process within 2s.
const shutdownTimeout = 500 * time.Millisecond

// Validate checks the listen address; errors name http.listen.
func (c Config) Validate() error {
	if c.Listen == "" {
		return nil
	}
	_, port, err := net.SplitHostPort(c.Listen)
	if err != nil {
		return fmt.Errorf("http.listen: %q is not host:port (or \"\" to disable)", c.Listen)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("http.listen: %q has no valid port", c.Listen)
	}
	return nil
}

// Readiness is what /healthz and /readyz report; the zero value is not
// ready. `run` moves it forward:
// ClickHouse migrated, consumer created (it joins its group in Run), then
// stopping at the end.
type Readiness struct {
	mu       sync.Mutex
	migrated bool
	consumer GroupMember // nil until created
	links    *Links      // failing connections; nil: none tracked
	stopping bool
}

// GroupMember is the part of pipeline.Consumer that Readiness needs.
type GroupMember interface{ Joined() bool }

// SetMigrated records that ClickHouse is migrated.
func (r *Readiness) SetMigrated() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.migrated = true
}

// SetConsumer records the consumer, ready once it has joined its group.
func (r *Readiness) SetConsumer(c GroupMember) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.consumer = c
}

// SetLinks makes /readyz answer with the failing connections of links,
// before any other reason: they are why the rest is not ready.
func (r *Readiness) SetLinks(l *Links) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.links = l
}

// SetStopping records that the command is stopping: both probes fail.
func (r *Readiness) SetStopping() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stopping = true
}

// live reports whether the run loop is still going (not stopping).
func (r *Readiness) live() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return !r.stopping
}

// ready reports whether the pipeline is doing its job, or why not.
func (r *Readiness) ready() (bool, string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.stopping:
		return false, "stopping"
	case len(r.links.Problems()) > 0:
		return false, problemsText(r.links)
	case !r.migrated:
		return false, "clickhouse: not migrated yet"
	case r.consumer == nil || !r.consumer.Joined():
		return false, "kafka: not a member of the consumer group yet"
	}
	return true, "ok"
}

// Handler serves /metrics from reg, /healthz and /readyz from r. The
// probes answer in plain text: "ok", or the reason with 503.
func Handler(reg *prometheus.Registry, r *Readiness) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		if r.live() {
			probeAnswer(w, true, "ok")
		} else {
			probeAnswer(w, false, "stopping")
		}
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		ok, reason := r.ready()
		probeAnswer(w, ok, reason)
	})
	return mux
}

func probeAnswer(w http.ResponseWriter, ok bool, reason string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if !ok {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	fmt.Fprintln(w, reason)
}

// Server is the operations HTTP server of `run`.
type Server struct {
	srv   *http.Server
	ln    net.Listener
	ready *Readiness
	log   *slog.Logger
}

// Listen binds cfg.Listen now, so that a taken port fails the command at
// start, naming the key; nil when the server is disabled.
func Listen(cfg Config, reg *prometheus.Registry, ready *Readiness, log *slog.Logger) (*Server, error) {
	if cfg.Listen == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("http.listen: %w", err)
	}
	return &Server{
		srv: &http.Server{
			Handler:           Handler(reg, ready),
			ReadHeaderTimeout: 10 * time.Second,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		},
		ln: ln, ready: ready, log: log,
	}, nil
}

// Start serves in the background until ctx is done or stop is called;
// stop marks the process as stopping (the probes answer 503 from then on),
// shuts the server down and waits for it. A nil server starts nothing.
func (s *Server) Start(ctx context.Context) (stop func()) {
	if s == nil {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- s.serve(ctx) }()
	return func() {
		s.ready.SetStopping()
		cancel()
		if err := <-done; err != nil {
			s.log.Warn("http server", "err", err)
		}
	}
}

// Addr is the address the server listens on (the port chosen for port 0).
func (s *Server) Addr() string { return s.ln.Addr().String() }

// serve serves until ctx is done, then shuts down gracefully: in-flight
// requests get shutdownTimeout to finish.
func (s *Server) serve(ctx context.Context) error {
	s.log.Info("http: serving /metrics, /healthz, /readyz", "addr", s.Addr())
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(s.ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("http server on %s: %w", s.Addr(), err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	err := s.srv.Shutdown(shutdownCtx)
	if err != nil {
		s.srv.Close() // the deadline passed: cut the slow requests
	}
	if serveErr := <-errc; !errors.Is(serveErr, http.ErrServerClosed) && err == nil {
		err = serveErr
	}
	if err != nil {
		return fmt.Errorf("shutting down the http server on %s: %w", s.Addr(), err)
	}
	return nil
}
