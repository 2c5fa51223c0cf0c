package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cohortline/cohortline/cmd/internal/configfile"
	"github.com/cohortline/cohortline/cohorts"
	"github.com/cohortline/cohortline/cohorts/publish"
	"github.com/cohortline/cohortline/pipeline"
	"github.com/cohortline/cohortline/pipeline/ops"
	"github.com/cohortline/cohortline/sinks/clickhouse"
)

func newRunCmd() *cobra.Command {
	var (
		path     string
		failFast bool
	)
	cmd := &cobra.Command{
		Use:   "run --config FILE",
		Short: "Run the streaming pipeline: Kafka activity to cohort partials in ClickHouse",
		Long: `Run joins the Kafka consumer group, runs one worker per assigned partition,
aggregates events per cohort and event-time window, and writes the partials
of each closed window to ClickHouse before it commits offsets: after any
crash, restart or rebalance the results equal a fault-free run. It applies
pending ClickHouse migrations first. It stops on SIGINT or SIGTERM, dropping
windows still open (their messages are read again on restart).

The config file is YAML (see deploy/cohortline.example.yaml); unknown keys
are errors. Secrets come from the environment: COHORTLINE_SECRET (required in
production mode, 32+ random bytes) and COHORTLINE_CLICKHOUSE_PASSWORD.
Logs are JSON lines on standard error.

It serves Prometheus metrics on /metrics and the probes /healthz (200 while
running) and /readyz (200 once ClickHouse is migrated and the consumer has
joined its group, else 503 with the reason, such as a failing connection)
on http.listen (default 127.0.0.1:9464; "" disables).

A server that cannot be reached, at start or later, is logged at once with
its address and the cause, then retried with backoff (a line when the
cause changes, every 30s while it lasts, and at recovery). With --fail-fast
the first connection failure ends the command instead, exit status 1.`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if path == "" {
				return usageErrorf("run: --config FILE is required")
			}
			return runPipeline(cmd, path, failFast)
		},
	}
	cmd.Flags().StringVar(&path, "config", "", "YAML config file (required)")
	cmd.Flags().BoolVar(&failFast, "fail-fast", false, "exit 1 at the first connection failure (Kafka or ClickHouse, at start or later) instead of retrying")
	return cmd
}

// failFastError is why run --fail-fast stopped.
type failFastError struct {
	link, addr string
	err        error
}

func (e *failFastError) Error() string {
	return fmt.Sprintf("%s at %s: %v (--fail-fast: not retrying)", e.link, e.addr, e.err)
}

func (e *failFastError) Unwrap() error { return e.err }

// connectBackoff paces run's retries of ClickHouse at start.
var connectBackoff = ops.Backoff{Initial: 250 * time.Millisecond, Max: 5 * time.Second}

func runPipeline(cmd *cobra.Command, path string, failFast bool) (err error) {
	cfg, err := loadConfig(path, os.Getenv)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(cmd.ErrOrStderr(), nil))
	ctx, cancel := context.WithCancelCause(cmd.Context())
	defer cancel(nil)
	links := ops.NewLinks(log)
	if failFast {
		links.OnFailure = func(link, addr string, err error) { cancel(&failFastError{link, addr, err}) }
	}
	// The failure that stopped a --fail-fast run is its error, whatever
	// the parts returned on their way out.
	defer func() {
		if ff := (*failFastError)(nil); errors.As(context.Cause(ctx), &ff) {
			err = ff
		}
	}()
	chAddr := strings.Join(cfg.File.ClickHouse.Addr, ",")
	cfg.File.ClickHouse.Retry.Observe = func(err error) {
		if err == nil {
			links.Recovered(linkClickHouse)
		} else {
			links.Failed(linkClickHouse, chAddr, err)
		}
	}
	reg, ready := newOpsRegistry(&cfg.File.ClickHouse), &ops.Readiness{}
	ready.SetLinks(links)
	server, err := ops.Listen(cfg.File.HTTP, reg, ready, log)
	if err != nil {
		return err
	}
	stopOps := server.Start(ctx)
	defer stopOps()
	cfg.File.WarnInsecure(log)
	if string(cfg.Secret) == configfile.DevelopmentSecret {
		log.Warn("development mode without " + configfile.EnvSecret + ": tokens are keyed with the public development secret")
	}
	rekey, err := cohorts.NewRekeyer(cfg.Secret)
	if err != nil {
		return err
	}
	client, applied, err := openMigrated(ctx, cfg, links)
	if err != nil {
		if ctx.Err() != nil {
			return nil // stopped (or --fail-fast, which the deferred check reports)
		}
		return err
	}
	defer client.Close()
	log.Info("clickhouse ready", "clickhouse", cfg.File.ClickHouse, "migrations_applied", applied)
	ready.SetMigrated()
	consumer, err := pipeline.NewConsumer(cfg.File.Kafka, &cfg.Spec, rekey, client.Writer(), log)
	if err != nil {
		return err
	}
	reg.MustRegister(pipeline.NewMetrics(consumer), sinkInserts(client))
	defer func() {
		st := client.Writer().Stats()
		log.Info("sink totals", "flushes_written", st.Flushes, "partials_inserts", st.Inserts)
	}()
	consumer.SetHealth(links)
	ready.SetConsumer(consumer)
	if *cfg.File.Publish.Auto {
		auto, err := newAutoPublisher(ctx, cfg, client, consumer, log)
		if err != nil {
			return err
		}
		done := make(chan struct{})
		defer func() { <-done }()
		go func() { defer close(done); auto.Run(ctx) }()
	}
	log.Info("consuming", "topic", cfg.File.Kafka.Topic, "group", cfg.File.Kafka.Group, "spec_hash", cfg.Spec.Hash(),
		"auto_publish", *cfg.File.Publish.Auto)
	return consumer.Run(ctx)
}

// linkClickHouse names ClickHouse's connection in the log and on /readyz.
const linkClickHouse = "clickhouse"

// openMigrated connects to ClickHouse and applies pending migrations,
// retrying while the server cannot be reached (reported on links) and
// giving up on any other error, such as refused credentials.
func openMigrated(ctx context.Context, cfg *config, links *ops.Links) (client *clickhouse.Client, applied []string, err error) {
	err = links.Retry(ctx, linkClickHouse, strings.Join(cfg.File.ClickHouse.Addr, ","), connectBackoff, clickhouse.IsRetryable,
		func(ctx context.Context) error {
			c, err := clickhouse.Open(ctx, cfg.File.ClickHouse)
			if err != nil {
				return err
			}
			if applied, err = c.Migrate(ctx); err != nil {
				c.Close()
				return err
			}
			client = c
			return nil
		})
	return client, applied, err
}

// newAutoPublisher prepares run's automatic publishing; see
// publish.Scheduler.
func newAutoPublisher(ctx context.Context, cfg *config, client *clickhouse.Client, consumer *pipeline.Consumer, log *slog.Logger) (*publish.Scheduler, error) {
	pc, err := cfg.Publisher()
	if err != nil {
		return nil, err
	}
	pub, err := publish.NewPublisher(pc, newStore(cfg, client, "run"))
	if err != nil {
		return nil, err
	}
	if err := client.WriteFeatureDictionary(ctx, clickhouse.FeatureDictionary()); err != nil {
		return nil, err
	}
	brokers, topic, dialer := cfg.File.Kafka.Brokers, cfg.File.Kafka.Topic, cfg.File.Kafka.Dialer
	return &publish.Scheduler{
		Settings: cfg.File.Publish, Spec: cfg.Spec, Topic: topic, Publisher: pub, Flushes: client,
		Partitions: func(ctx context.Context) (int, error) { return pipeline.PartitionCount(ctx, dialer, brokers, topic) },
		Owns:       consumer.Owns, Log: log, Now: time.Now,
	}, nil
}
