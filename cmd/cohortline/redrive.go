package main

import (
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/cohortline/cohortline/cmd/internal/console"
	"github.com/cohortline/cohortline/pipeline/redrive"
	"github.com/cohortline/cohortline/sinks/clickhouse"
)

type redriveOptions struct {
	config, from, to  string
	reasons           []string
	r                 redrive.Range
	dryRun, keyByUser bool
}

func newRedriveCmd() *cobra.Command {
	var opts redriveOptions
	cmd := &cobra.Command{
		Use:   "redrive --config FILE [--reason R]... [--partition P]... [--from-offset N] [--to-offset M] [--from T1] [--to T2] [--key-by-user] [--dry-run]",
		Short: "Re-publish dead letters to the input topic once what rejected them is fixed",
		Long: `Redrive produces to kafka.topic a copy of each dead letter of the chosen
reasons (default: all but pii_suspected, which has no payload) in the range:
offsets [--from-offset, --to-offset) of each chosen partition, written in
[--from, --to). A copy keeps the key (its user's partition) and the value
(its event time), and names its dead letter in the header
cohortline-redriven-from; --key-by-user keys it by its event's user token
instead (the fix of key_mismatch). None is made twice (the input topic is
scanned since the range's oldest dead letter), nor of a copy's dead letter.
Skipped and counted: what this version still rejects (it stays
re-drivable) and valid events whose window had closed at their partition's
last flush, which the pipeline would count late and drop, as it counts a
copy whose window closes meanwhile. Run one at a time; --dry-run writes
nothing.`,
		Example: `  cohortline redrive --config cohortline.yaml --reason bad_value:category,ts_out_of_range --dry-run
  cohortline redrive --config cohortline.yaml --partition 3 --from-offset 1200 --from 2026-11-23`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error { return runRedrive(cmd, opts) },
	}
	f := cmd.Flags()
	f.StringVar(&opts.config, "config", "", "YAML config file, as for run (required)")
	f.StringSliceVar(&opts.reasons, "reason", nil, "a code (bad_value:kind) or class (bad_value) to re-drive; repeat or comma-separate (default: all but pii_suspected)")
	f.IntSliceVar(&opts.r.Partitions, "partition", nil, "dead-letter partitions to read (default: every one)")
	f.Int64Var(&opts.r.FromOffset, "from-offset", 0, "first offset to read in each chosen partition")
	f.Int64Var(&opts.r.ToOffset, "to-offset", 0, "read the offsets before this one (0: to the end)")
	f.StringVar(&opts.from, "from", "", "read dead letters written at this time (UTC) or later")
	f.StringVar(&opts.to, "to", "", "read dead letters written before this time")
	f.BoolVar(&opts.keyByUser, "key-by-user", false, "key each copy by its event's user token, as a fixed producer does (re-drives key_mismatch)")
	f.BoolVar(&opts.dryRun, "dry-run", false, "judge and count, produce nothing")
	return cmd
}

func runRedrive(cmd *cobra.Command, opts redriveOptions) error {
	var err error
	if opts.config == "" {
		return usageErrorf("redrive: --config FILE is required")
	}
	for _, t := range []struct {
		flag, value string
		to          *time.Time
	}{{"--from", opts.from, &opts.r.From}, {"--to", opts.to, &opts.r.To}} {
		if t.value != "" {
			if *t.to, err = parseTimeFlag("redrive", t.flag, t.value); err != nil {
				return err
			}
		}
	}
	if err := opts.r.Check(); err != nil {
		return usageErrorf("redrive: %v", err)
	}
	reasons, err := redrive.ParseReasons(opts.reasons)
	if err != nil {
		return usageErrorf("redrive: --reason: %v", err)
	}
	cfg, err := loadConfig(opts.config, os.Getenv)
	if err != nil {
		return err
	}
	cfg.File.WarnInsecure(slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil)))
	client, err := clickhouse.Open(cmd.Context(), cfg.File.ClickHouse)
	if err != nil {
		return err
	}
	defer client.Close()
	k := cfg.File.Kafka
	rep, err := redrive.Run(cmd.Context(), redrive.Config{
		Brokers: k.Brokers, Dialer: k.Dialer, Topic: k.Topic, DeadLetterTopic: k.DeadLetterTopic, Reasons: reasons, Range: opts.r,
		DryRun: opts.dryRun, KeyByUser: opts.keyByUser, Spec: &cfg.Spec, MaxFutureSkew: k.MaxFutureSkew, Watermarks: client.Writer(),
	})
	if rep != nil {
		for _, line := range rep.Lines(console.Count[int64]) {
			fmt.Fprintln(cmd.OutOrStdout(), line)
		}
	}
	return err
}
