package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cohortline/cohortline/cmd/internal/configfile"
	"github.com/cohortline/cohortline/cmd/internal/console"
	"github.com/cohortline/cohortline/pipeline"
	"github.com/cohortline/cohortline/schemas/synth"
	"github.com/cohortline/cohortline/sinks/clickhouse"
)

// demoOptions are the flags of demo.
type demoOptions struct {
	clickhouse string // native-protocol address
	kafka      string // an outside broker instead of the embedded one
	config     string // --config: kafka.tls and kafka.sasl for --kafka, clickhouse's tls, user and password source
	database   string // the published database is database + "_published"
	users      int
	events     int64
	span       time.Duration
	start      string // a time flag (timeflag.go)
	seed       uint64
	partitions int
	top        int
	log        string // file for the pipeline's JSON logs; "" drops them
}

// The demo's defaults: one realistic day, sized to finish in well under two
// minutes on a 2-core machine (README.md has the figures).
const (
	defaultDemoDatabase = "cohortline_demo"
	defaultDemoSeed     = 7
	demoTopic           = "demo-activity" // on the embedded broker, which starts empty
	demoGroup           = "cohortline-demo"
	// demoIdleTimeout closes the last windows soon after the last event:
	// the day is in the past, so nothing more will come.
	demoIdleTimeout = time.Second
	// demoStallTimeout fails the demo when the pipeline makes no progress
	// for this long (ClickHouse or the broker went away): the daemon would
	// retry for ever, a demo must say what is wrong.
	demoStallTimeout = time.Minute
)

func newDemoCmd() *cobra.Command {
	opts := demoOptions{
		database: defaultDemoDatabase, users: 100000, events: 1000000, span: 24 * time.Hour,
		start: synth.DefaultStart.Format(time.RFC3339), seed: defaultDemoSeed, partitions: 4, top: 10,
	}
	cmd := &cobra.Command{
		Use:   "demo [flags]",
		Short: "Everything on one machine: embedded Kafka, generator, pipeline, publish, top cohorts",
		Long: `Demo runs the whole product on this machine and shows what a targeter gets:

 1. connects to ClickHouse (--clickhouse) and migrates a fresh pair of
    databases (--database and --database + "_published"; dropped first);
 2. starts an embedded Kafka-protocol broker in this process (kfake, on a
    random 127.0.0.1 port), unless --kafka names a real broker;
 3. generates a realistic day of activity into a topic, as gen does, with
    its late, duplicate, out-of-order and bad records;
 4. runs the streaming pipeline, as run does, until every window is flushed
    to ClickHouse;
 5. publishes every window, as publish does: k-anonymity with
    generalization and differential-privacy noise, keyed with the public
    development secret (or COHORTLINE_SECRET);
 6. prints the largest published cohorts of the busiest hour, with a few
    features by their feature_dictionary names, and the SQL to read them.

Progress goes to standard error, one line per stage; the table and the SQL
to standard output. The databases stay for you to query. make demo starts
ClickHouse with deploy/dev/up first.`,
		Example: `  cohortline demo --clickhouse 127.0.0.1:19000
  cohortline demo --users 5000 --events 50000
  cohortline demo --kafka 127.0.0.1:19092   # a real broker instead of the embedded one`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !cmd.Flags().Changed("clickhouse") {
				opts.clickhouse = os.Getenv(envClickHouse)
			}
			return runDemo(cmd.Context(), opts, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.clickhouse, "clickhouse", "", "ClickHouse native-protocol address host:port (default $"+envClickHouse+", else "+clickhouse.DefaultAddr+")")
	f.StringVar(&opts.kafka, "kafka", "", "Kafka broker host:port to use instead of the embedded broker (a new topic is created)")
	f.StringVar(&opts.config, "config", "", "YAML config file whose kafka.tls and kafka.sasl secure --kafka, and whose clickhouse tls, username and password_env/password_file secure --clickhouse (nothing else of it is used)")
	f.StringVar(&opts.database, "database", opts.database, `database of the demo's partials, dropped and created again; the published tables go to DATABASE_published (the name must contain "demo")`)
	f.IntVar(&opts.users, "users", opts.users, "users in the generated population")
	f.Int64Var(&opts.events, "events", opts.events, "records to generate, duplicates and bad records included")
	f.DurationVar(&opts.span, "span", opts.span, "event-time range of the generated records")
	f.StringVar(&opts.start, "start", opts.start, "event time of the first record (times: 2026-11-01T10:00:00Z, 2026-11-01T10:00 UTC, 2026-11-01)")
	f.Uint64Var(&opts.seed, "seed", opts.seed, "selects the generated data set")
	f.IntVar(&opts.partitions, "partitions", opts.partitions, "partitions of the demo topic: one pipeline worker each")
	f.IntVar(&opts.top, "top", opts.top, "cohorts in the table")
	f.StringVar(&opts.log, "log", "", "write the pipeline's JSON logs to this file (default: not kept)")
	return cmd
}

// demo is one run of the demo command: its checked settings and what the
// stages share.
type demo struct {
	opts   demoOptions
	gen    synth.Config
	cfg    *config // as run and publish would load it from a file
	prog   *console.Progress
	log    *slog.Logger
	warned *console.LastWarning // the pipeline's latest warning, for a stall's message
	client *clickhouse.Client
	chAddr string // ClickHouse's address(es), as given
	topic  string
}

// errInterrupted ends a demo stopped by SIGINT or SIGTERM.
var errInterrupted = errors.New("demo interrupted")

func runDemo(ctx context.Context, opts demoOptions, stdout, stderr io.Writer) error {
	d, err := newDemo(opts, stderr)
	if err != nil {
		return err
	}
	if opts.log != "" {
		f, err := os.Create(opts.log)
		if err != nil {
			return usageErrorf("--log: %v", err)
		}
		defer f.Close()
		d.log = slog.New(d.warned.Wrap(slog.NewJSONHandler(f, nil)))
	}
	err = d.run(ctx, stdout)
	if ctx.Err() != nil {
		d.prog.Abandon()
		return errInterrupted
	}
	if err != nil {
		d.prog.Abandon()
		return errors.New(oneLine(err.Error()))
	}
	return nil
}

// newDemo checks the flags; every problem is a usage error.
func newDemo(opts demoOptions, stderr io.Writer) (*demo, error) {
	start, err := parseTimeFlag("demo", "--start", opts.start)
	if err != nil {
		return nil, err
	}
	g := synth.DefaultConfig()
	g.Seed, g.Users, g.Events, g.Span, g.Start = opts.seed, opts.users, opts.events, opts.span, start
	if err := g.Validate(); err != nil {
		var fe *synth.FieldError
		if errors.As(err, &fe) {
			return nil, usageErrorf("--%s: %s", fe.Field, fe.Msg)
		}
		return nil, usageError{err}
	}
	switch {
	case !strings.Contains(opts.database, "demo"):
		return nil, usageErrorf(`--database %q: the demo drops and recreates its databases, so the name must contain "demo"`, opts.database)
	case opts.partitions < 1:
		return nil, usageErrorf("--partitions: %d must be at least 1", opts.partitions)
	case opts.top < 1:
		return nil, usageErrorf("--top: %d must be at least 1", opts.top)
	}
	cfg, err := demoConfig(opts)
	if err != nil {
		return nil, usageErrorf("demo: %v", err)
	}
	warned := &console.LastWarning{}
	return &demo{
		opts: opts, gen: g, cfg: cfg, prog: console.NewProgress(stderr),
		log: slog.New(warned.Wrap(slog.DiscardHandler)), warned: warned,
	}, nil
}

// demoConfig is the configuration run and publish would read from a file:
// development mode (the public development secret unless
// COHORTLINE_SECRET is set), the default cohort spec, noise on, no HTTP
// server, no automatic publishing (the demo publishes once the windows
// are flushed). The brokers are set once the broker runs.
func demoConfig(opts demoOptions) (*config, error) {
	f := configfile.File{
		Mode: configfile.ModeDevelopment,
		Kafka: pipeline.Config{
			Brokers: []string{"127.0.0.1:0"}, Topic: demoTopic, Group: demoGroup,
			IdleTimeout: demoIdleTimeout,
		},
		ClickHouse: clickhouse.Config{Database: opts.database, PublishedDatabase: opts.database + "_published"},
	}
	if opts.clickhouse != "" {
		f.ClickHouse.Addr = strings.Split(opts.clickhouse, ",")
	}
	if err := demoSecurity(&f, opts); err != nil {
		return nil, err
	}
	f.Publish.Auto = new(bool)
	return configfile.Check(f, os.Getenv)
}

// run does the stages in order; each prints its line.
func (d *demo) run(ctx context.Context, stdout io.Writer) error {
	defer func() {
		if d.client != nil {
			d.client.Close()
		}
	}()
	if err := d.prepareClickHouse(ctx); err != nil {
		return err
	}
	stopBroker, err := d.startBroker(ctx)
	if err != nil {
		return err
	}
	defer stopBroker()
	records, err := d.produce(ctx)
	if err != nil {
		return err
	}
	if err := d.runPipeline(ctx, records); err != nil {
		return err
	}
	if err := d.publish(ctx); err != nil {
		return err
	}
	return d.report(ctx, stdout)
}

// prepareClickHouse connects, drops the demo's databases, migrates them
// afresh and writes the feature dictionary.
func (d *demo) prepareClickHouse(ctx context.Context) error {
	ch := d.cfg.File.ClickHouse
	addr := strings.Join(ch.Addr, ",")
	if addr == "" {
		addr = clickhouse.DefaultAddr
	}
	d.chAddr = addr
	d.prog.Update("clickhouse", "connecting to %s", addr)
	client, err := clickhouse.Open(ctx, ch)
	if err != nil {
		if inner := errors.Unwrap(err); inner != nil {
			err = inner // Open's message names the address again
		}
		return fmt.Errorf("ClickHouse at %s is not answering (make demo starts one with deploy/dev/up; or give --clickhouse ADDR): %w", addr, err)
	}
	d.client = client
	if err := client.DropDatabases(ctx); err != nil {
		return err
	}
	applied, err := client.Migrate(ctx)
	if err != nil {
		return err
	}
	if err := client.WriteFeatureDictionary(ctx, clickhouse.FeatureDictionary()); err != nil {
		return err
	}
	d.prog.Done("clickhouse", "%s: fresh databases %s and %s (%d migrations)", addr, ch.Database, ch.PublishedDatabase, len(applied))
	return nil
}

// oneLine joins the lines of a message (errors.Join makes several) so a
// failure prints as one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", "; ")), " ")
}
