package main

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
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/cohortline/cohortline/sinks/clickhouse"
)

// httpConfig is the `http` section of the config file: where `run` serves
// /metrics, /healthz and /readyz.
type httpConfig struct {
	// Listen is host:port; default 127.0.0.1:9464 (loopback: expose it on
	// purpose, e.g. 0.0.0.0:9464 in a container). "" disables the server.
	// Port 0 takes a free port (tests); the log line "http: serving" names it.
	Listen string `yaml:"listen"`
}

// defaultHTTPListen is Prometheus' conventional exporter port, on loopback.
const defaultHTTPListen = "127.0.0.1:9464"

// opsShutdownTimeout bounds the wait for in-flight requests (a scrape) when
// the command stops.
const opsShutdownTimeout = 5 * time.Second

// Validate checks the listen address; errors name http.listen.
func (c httpConfig) Validate() error {
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

// readiness is what /healthz and /readyz report. `run` moves it forward:
// ClickHouse migrated, consumer created (it joins its group in Run), then
// stopping at the end.
type readiness struct {
	mu       sync.Mutex
	migrated bool
	consumer groupMember // nil until created
	stopping bool
}

// groupMember is the part of pipeline.Consumer readiness needs.
type groupMember interface{ Joined() bool }

func (r *readiness) setMigrated() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.migrated = true
}

func (r *readiness) setConsumer(c groupMember) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.consumer = c
}

func (r *readiness) setStopping() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stopping = true
}

// live reports whether the run loop is still going (not stopping).
func (r *readiness) live() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return !r.stopping
}

// ready reports whether the pipeline is doing its job, or why not.
func (r *readiness) ready() (bool, string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.stopping:
		return false, "stopping"
	case !r.migrated:
		return false, "clickhouse: not migrated yet"
	case r.consumer == nil || !r.consumer.Joined():
		return false, "kafka: not a member of the consumer group yet"
	}
	return true, "ok"
}

// opsHandler serves /metrics from reg, /healthz and /readyz from r. The
// probes answer in plain text: "ok", or the reason with 503.
func opsHandler(reg *prometheus.Registry, r *readiness) http.Handler {
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

// newOpsRegistry returns the registry `run` serves: the Go runtime and
// process collectors, and cohortline_sink_retries_total, counted by the
// ClickHouse client through ch.Retry.OnRetry. The caller adds the
// pipeline's collector once the consumer exists.
func newOpsRegistry(ch *clickhouse.Config) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	retries := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "cohortline_sink_retries_total",
		Help: "ClickHouse operations tried again after a retryable error (writes of partials and progress, reads, migrations).",
	})
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), retries)
	ch.Retry.OnRetry = retries.Inc
	return reg
}

// sinkInserts counts the writer's inserts into cohort_partials. Flushes
// that arrive together share one (group commit), so
// cohortline_flushes_total over this is the average group.
func sinkInserts(client *clickhouse.Client) prometheus.Collector {
	return prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "cohortline_sink_partials_inserts_total",
		Help: "INSERTs into cohort_partials; flushes that arrive while one is in flight share the next.",
	}, func() float64 { return float64(client.Writer().Stats().Inserts) })
}

// opsServer is the HTTP server of `run`.
type opsServer struct {
	srv   *http.Server
	ln    net.Listener
	ready *readiness
	log   *slog.Logger
}

// listenOps binds cfg.Listen now, so that a taken port fails the command at
// start, naming the key; nil when the server is disabled.
func listenOps(cfg httpConfig, reg *prometheus.Registry, ready *readiness, log *slog.Logger) (*opsServer, error) {
	if cfg.Listen == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("http.listen: %w", err)
	}
	return &opsServer{
		srv: &http.Server{
			Handler:           opsHandler(reg, ready),
			ReadHeaderTimeout: 10 * time.Second,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		},
		ln: ln, ready: ready, log: log,
	}, nil
}

// start serves in the background until ctx is done or stop is called;
// stop marks the process as stopping (the probes answer 503 from then on),
// shuts the server down and waits for it. A nil server starts nothing.
func (s *opsServer) start(ctx context.Context) (stop func()) {
	if s == nil {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- s.serve(ctx) }()
	return func() {
		s.ready.setStopping()
		cancel()
		if err := <-done; err != nil {
			s.log.Warn("http server", "err", err)
		}
	}
}

// Addr is the address the server listens on (the port chosen for port 0).
func (s *opsServer) Addr() string { return s.ln.Addr().String() }

// serve serves until ctx is done, then shuts down gracefully: in-flight
// requests get opsShutdownTimeout to finish.
func (s *opsServer) serve(ctx context.Context) error {
	s.log.Info("http: serving /metrics, /healthz, /readyz", "addr", s.Addr())
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(s.ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("http server on %s: %w", s.Addr(), err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), opsShutdownTimeout)
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
