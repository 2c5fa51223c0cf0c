package main

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/cohortline/cohortline/cohorts"
	"github.com/cohortline/cohortline/cohorts/publish"
	"github.com/cohortline/cohortline/pipeline"
	"github.com/cohortline/cohortline/pipeline/ops"
	"github.com/cohortline/cohortline/sinks/clickhouse"
)

func newRunCmd() *cobra.Command {
	var path string
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
joined its group, else 503 with the reason) on http.listen (default
127.0.0.1:9464; "" disables).`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if path == "" {
				return usageErrorf("run: --config FILE is required")
			}
			return runPipeline(cmd, path)
		},
	}
	cmd.Flags().StringVar(&path, "config", "", "YAML config file (required)")
	return cmd
}

func runPipeline(cmd *cobra.Command, path string) error {
	ctx := cmd.Context()
	cfg, err := loadConfig(path, os.Getenv)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(cmd.ErrOrStderr(), nil))
	reg, ready := newOpsRegistry(&cfg.file.ClickHouse), &ops.Readiness{}
	server, err := ops.Listen(cfg.file.HTTP, reg, ready, log)
	if err != nil {
		return err
	}
	stopOps := server.Start(ctx)
	defer stopOps()
	warnInsecure(log, &cfg.file)
	if string(cfg.secret) == developmentSecret {
		log.Warn("development mode without " + envSecret + ": tokens are keyed with the public development secret")
	}
	rekey, err := cohorts.NewRekeyer(cfg.secret)
	if err != nil {
		return err
	}
	client, err := clickhouse.Open(ctx, cfg.file.ClickHouse)
	if err != nil {
		return err
	}
	defer client.Close()
	applied, err := client.Migrate(ctx)
	if err != nil {
		return err
	}
	log.Info("clickhouse ready", "clickhouse", cfg.file.ClickHouse, "migrations_applied", applied)
	ready.SetMigrated()
	consumer, err := pipeline.NewConsumer(cfg.file.Kafka, &cfg.spec, rekey, client.Writer(), log)
	if err != nil {
		return err
	}
	reg.MustRegister(pipeline.NewMetrics(consumer), sinkInserts(client))
	defer func() {
		st := client.Writer().Stats()
		log.Info("sink totals", "flushes_written", st.Flushes, "partials_inserts", st.Inserts)
	}()
	ready.SetConsumer(consumer)
	if *cfg.file.Publish.Auto {
		auto, err := newAutoPublisher(ctx, cfg, client, consumer, log)
		if err != nil {
			return err
		}
		done := make(chan struct{})
		defer func() { <-done }()
		go func() { defer close(done); auto.Run(ctx) }()
	}
	log.Info("consuming", "topic", cfg.file.Kafka.Topic, "group", cfg.file.Kafka.Group, "spec_hash", cfg.spec.Hash(),
		"auto_publish", *cfg.file.Publish.Auto)
	return consumer.Run(ctx)
}

// newAutoPublisher prepares run's automatic publishing; see
// publish.Scheduler.
func newAutoPublisher(ctx context.Context, cfg *config, client *clickhouse.Client, consumer *pipeline.Consumer, log *slog.Logger) (*publish.Scheduler, error) {
	pc, err := cfg.publisherConfig()
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
	brokers, topic, dialer := cfg.file.Kafka.Brokers, cfg.file.Kafka.Topic, cfg.file.Kafka.Dialer
	return &publish.Scheduler{
		Settings: cfg.file.Publish, Spec: cfg.spec, Topic: topic, Publisher: pub, Flushes: client,
		Partitions: func(ctx context.Context) (int, error) { return pipeline.PartitionCount(ctx, dialer, brokers, topic) },
		Owns:       consumer.Owns, Log: log, Now: time.Now,
	}, nil
}
