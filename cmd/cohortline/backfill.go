package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/cohortline/cohortline/cmd/internal/console"
	"github.com/cohortline/cohortline/cohorts"
	"github.com/cohortline/cohortline/pipeline/backfill"
	"github.com/cohortline/cohortline/sinks/clickhouse"
)

// backfillOptions are backfill's flags.
type backfillOptions struct {
	config     string
	from, to   string
	source     string   // "kafka" or "" with files
	files      []string // --files
	dryRun     bool
	resume     bool
	checkpoint string
	partitions int
	onError    string // broken files: "stop" or "continue"
	onReject   string // rejected records: "count" or "stop"
	parallel   int
	noPublish  bool
	show       int // dry run: changed cohorts listed
}

func newBackfillCmd() *cobra.Command {
	var opts backfillOptions
	cmd := &cobra.Command{
		Use:   "backfill --config FILE --from T1 --to T2 [--source kafka | --files PATH...] [--dry-run] [--resume]",
		Short: "Recompute a past range from Kafka or archived files and replace what was published",
		Long: `Backfill recomputes the windows that start in [--from, --to) with the streaming
pipeline's own code (decode, cohort, window), from a bounded source:

  --source kafka (the default) reads each partition of the config's topic from
    the first message at --from minus the allowed lateness, outside any consumer
    group: the live group's offsets are untouched. It stops at the message where
    the watermark closes the range's last window, as streaming closed it.
  --files PATH... reads archives of the topic's events, in the order given and
    produced: NDJSON (.ndjson, .jsonl, .json, each optionally .gz), Parquet
    (.parquet) and Arrow IPC (.arrow, .arrows, .ipc, .feather). Each event goes
    to the partition Kafka's producers would have chosen (murmur2 of the user
    token) among --partitions (default: the topic's partition count).

Same messages, same partials: backfilling a range that streaming processed
gives identical partials and, published again, identical rows (the noise is
keyed by the data; the ledger marks the republish, which spends nothing).

The new partials are written with a backfill flush version, invisible to
readers until every window is done; then one insert of their window_progress
rows switches readers over, one daily partition at a time. Then the windows
are republished (unless --no-publish). Windows still open in streaming cannot
be backfilled.

A checkpoint file records each partition's progress: after SIGINT or a kill,
--resume continues where it stopped, without double counting. --dry-run
writes nothing and prints which windows and cohorts would change, and by how
much.

A file that cannot be read to its end (corrupt, truncated) stops the backfill
before anything is committed, naming the file, the row and the reason;
--on-error continue skips the rest of it instead and commits the rest.
Rejected records are counted by reason and listed by position (never by
content), as streaming dead-letters them; --on-reject stop stops at the
first one instead.`,
		Example: `  cohortline backfill --config cohortline.yaml --from 2026-11-23 --to 2026-11-24
  cohortline backfill --config cohortline.yaml --from 2026-11-23T10:00 --to 2026-11-23T14:00 --dry-run
  cohortline backfill --config cohortline.yaml --from 2026-11-23 --to 2026-11-24 --files day.parquet
  cohortline backfill --config cohortline.yaml --from 2026-11-23 --to 2026-11-24 --resume`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runBackfill(cmd, opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.config, "config", "", "YAML config file, as for run (required)")
	f.StringVar(&opts.from, "from", "", "first window start to recompute (UTC; required)")
	f.StringVar(&opts.to, "to", "", "recompute windows that start before this time (required)")
	f.StringVar(&opts.source, "source", "", `"kafka" (the default without --files)`)
	f.StringSliceVar(&opts.files, "files", nil, "archive files to read instead of Kafka, in production order (repeat or comma-separate)")
	f.BoolVar(&opts.dryRun, "dry-run", false, "write nothing; print what would change")
	f.BoolVar(&opts.resume, "resume", false, "continue an interrupted backfill from its checkpoint")
	f.StringVar(&opts.checkpoint, "checkpoint", "", "checkpoint file (default backfill-TOPIC-FROM-TO.checkpoint.json in the current directory)")
	f.IntVar(&opts.partitions, "partitions", 0, "with --files: partitions of the topic (default: asked from Kafka)")
	f.StringVar(&opts.onError, "on-error", "stop", `a file that cannot be read to its end: "stop" (commit nothing) or "continue" (skip its rest)`)
	f.StringVar(&opts.onReject, "on-reject", "count", `a record the decoder rejects: "count" (and list it) or "stop"`)
	f.IntVar(&opts.parallel, "parallel", 0, "Kafka partitions read at once (default: 4 × the number of CPUs)")
	f.BoolVar(&opts.noPublish, "no-publish", false, "commit the partials but do not republish the windows")
	f.IntVar(&opts.show, "show", 10, "with --dry-run: how many changed cohorts to list")
	return cmd
}

// checkBackfillFlags checks the flags that need no config.
func checkBackfillFlags(opts backfillOptions) error {
	switch {
	case opts.config == "":
		return usageErrorf("backfill: --config FILE is required")
	case opts.from == "" || opts.to == "":
		return usageErrorf("backfill: --from and --to are required")
	case opts.source != "" && opts.source != "kafka":
		return usageErrorf("backfill: --source %q: the sources are kafka and --files", opts.source)
	case opts.source == "kafka" && len(opts.files) > 0:
		return usageErrorf("backfill: --source kafka and --files exclude each other")
	case opts.onError != "continue" && opts.onError != "stop":
		return usageErrorf(`backfill: --on-error %q: want "stop" or "continue"`, opts.onError)
	case opts.onReject != "count" && opts.onReject != "stop":
		return usageErrorf(`backfill: --on-reject %q: want "count" or "stop"`, opts.onReject)
	case opts.partitions < 0:
		return usageErrorf("backfill: --partitions %d is negative", opts.partitions)
	case opts.partitions > 0 && len(opts.files) == 0:
		return usageErrorf("backfill: --partitions applies to --files only (Kafka says how many it has)")
	case opts.dryRun && opts.resume:
		return usageErrorf("backfill: --dry-run keeps no checkpoint: it cannot --resume")
	case opts.show < 0:
		return usageErrorf("backfill: --show %d is negative", opts.show)
	}
	return nil
}

// backfillRange reads --from and --to: both must be window starts.
func backfillRange(opts backfillOptions, size time.Duration) (time.Time, time.Time, error) {
	from, err := parseWindowFlag("backfill", "--from", opts.from, size)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	to, err := parseWindowFlag("backfill", "--to", opts.to, size)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	if !to.After(from) {
		return time.Time{}, time.Time{}, usageErrorf("backfill: --to %s is not after --from %s", opts.to, opts.from)
	}
	return from, to, nil
}

func runBackfill(cmd *cobra.Command, opts backfillOptions) error {
	if err := checkBackfillFlags(opts); err != nil {
		return err
	}
	cfg, err := loadConfig(opts.config, os.Getenv)
	if err != nil {
		return err
	}
	from, to, err := backfillRange(opts, cfg.Spec.Window)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	out, errOut := cmd.OutOrStdout(), cmd.ErrOrStderr()
	log := slog.New(slog.NewTextHandler(errOut, &slog.HandlerOptions{Level: slog.LevelWarn}))
	cfg.File.WarnInsecure(log)
	client, err := clickhouse.Open(ctx, cfg.File.ClickHouse)
	if err != nil {
		return err
	}
	defer client.Close()
	if _, err := client.Migrate(ctx); err != nil {
		return err
	}
	if err := backfill.CheckStreamingClosed(ctx, client, cfg.File.Kafka.Topic, &cfg.Spec, to); err != nil {
		return refused(err)
	}
	rekey, err := cohorts.NewRekeyer(cfg.Secret)
	if err != nil {
		return err
	}
	bcfg := backfill.Config{
		Spec: &cfg.Spec, Rekey: rekey, Topic: cfg.File.Kafka.Topic, From: from, To: to,
		MaxOutOfOrder: cfg.File.Kafka.MaxOutOfOrder, MaxFutureSkew: cfg.File.Kafka.MaxFutureSkew,
		WatermarkUsers: cfg.File.Kafka.WatermarkUsers,
		Parallel:       opts.parallel,
	}
	cp, err := backfill.Open(ctx, backfill.Request{
		Config: bcfg, Brokers: cfg.File.Kafka.Brokers, Dialer: cfg.File.Kafka.Dialer, Files: opts.files, Checkpoint: opts.checkpoint,
		DryRun: opts.dryRun, Resume: opts.resume, Partitions: opts.partitions,
	})
	if err != nil {
		return refused(err)
	}
	var sink backfill.Sink = client.Writer()
	var dry *backfill.DryRun
	if opts.dryRun {
		dry = backfill.NewDryRun()
		sink = dry
	}
	bf, err := backfill.New(bcfg, sink, cp, log)
	if err != nil {
		return err
	}
	state := cp.State()
	if !state.Committed {
		began := time.Now()
		if err := readBackfill(ctx, bf, opts, cfg, state, errOut); err != nil {
			switch {
			case cp.Path() == "":
				return err
			case errors.Is(err, context.Canceled):
				return fmt.Errorf("backfill interrupted; nothing was committed: continue with --resume --checkpoint %s", cp.Path())
			}
			return fmt.Errorf("%w\nnothing was committed; the checkpoint %s is kept: --resume continues after a transient failure, remove it to start over", err, cp.Path())
		}
		printBackfillTotals(out, bf.Totals(), time.Since(began))
	}
	if opts.dryRun {
		current, err := client.CurrentPartials(ctx, from, to)
		if err != nil {
			return err
		}
		printDryRun(out, backfill.Diff(current, dry.Rows()), opts.show)
		return nil
	}
	var republish backfill.Republish
	if !opts.noPublish {
		republish = republisher(cfg, client, out)
	}
	return backfill.Commit(ctx, cp, &cfg.Spec, client.Writer(), republish, out)
}

// readBackfill runs the source with progress on errOut.
func readBackfill(ctx context.Context, bf *backfill.Job, opts backfillOptions, cfg *config, state backfill.CheckpointState, errOut io.Writer) error {
	show := startBackfillProgress(errOut, bf)
	defer show.Stop()
	if state.Source == "kafka" {
		return bf.RunKafka(ctx, cfg.File.Kafka.Dialer, cfg.File.Kafka.Brokers)
	}
	return bf.RunFiles(ctx, backfill.FileSource{
		Files: state.Files, Open: openArchive,
		StopOnBrokenFile: opts.onError == "stop", StopOnReject: opts.onReject == "stop",
	})
}

// republisher publishes a committed range again, printing the releases.
func republisher(cfg *config, client *clickhouse.Client, out io.Writer) backfill.Republish {
	return func(ctx context.Context, from, to time.Time) error {
		pub, err := newPublisher(ctx, cfg, client, "backfill")
		if err != nil {
			return err
		}
		results, err := pub.RepublishRange(ctx, from, to)
		printReleases(out, pub.Release(), results)
		return err
	}
}

// refused makes the backfill's refusals of the request usage errors.
func refused(err error) error {
	if errors.Is(err, backfill.ErrRefused) {
		return usageError{err}
	}
	return err
}

func printBackfillTotals(w io.Writer, t backfill.Totals, took time.Duration) {
	fmt.Fprintf(w, "read %s messages in %s (%s/s): %s counted, %s bounded, %s duplicates, %s late, %s minors, %s sensitive, %s rejected, %s outside the range; %s windows flushed\n",
		console.Count(t.Messages), console.Seconds(took), console.Rate(int64(t.Messages), took), console.Count(t.Counted), console.Count(t.Bounded), console.Count(t.Duplicates), console.Count(t.Late), console.Count(t.Minors),
		console.Count(t.Sensitive), console.Count(t.Rejected), console.Count(t.OutOfRange), console.Count(t.Flushes))
	for _, r := range t.Rejects {
		fmt.Fprintf(w, "  rejected: %s\n", r)
	}
	if n := t.Rejected - uint64(len(t.Rejects)); len(t.Rejects) > 0 && n > 0 {
		fmt.Fprintf(w, "  … and %s more rejected\n", console.Count(n))
	}
	for _, b := range t.BrokenFiles {
		fmt.Fprintf(w, "  broken file, rest skipped: %s\n", b)
	}
}
