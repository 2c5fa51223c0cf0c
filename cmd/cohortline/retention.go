package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cohortline/cohortline/sinks/clickhouse"
)

type retentionOptions struct {
	config, keep, before string
	dryRun               bool
}

func newRetentionCmd() *cobra.Command {
	var opts retentionOptions
	cmd := &cobra.Command{
		Use:   "retention --config FILE (--keep DAYS | --before DAY) [--dry-run]",
		Short: "Drop the partials and published rows of days older than a cutoff",
		Long: `Retention drops whole days (the daily partitions) of the windows that start
before the cutoff day, UTC: their window progress, backfill progress and
partials in the internal database, and their published rows in the
published database, on every shard in cluster mode. The privacy ledger and
published_releases are audit records and keep every day.

--keep 30d keeps the 30 days before today (the cutoff is today's date minus
30 days); --before 2026-10-01 names the cutoff day. A cutoff that would drop
a window still open (the day of now minus the window and its allowed
lateness, or later) is refused. --dry-run lists what would go and drops
nothing. Running it again drops nothing more. Run it daily (a cron job or
a Kubernetes CronJob).`,
		Example: `  cohortline retention --config cohortline.yaml --keep 30d --dry-run
  cohortline retention --config cohortline.yaml --before 2026-10-01`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error { return runRetention(cmd, opts, time.Now()) },
	}
	f := cmd.Flags()
	f.StringVar(&opts.config, "config", "", "YAML config file (required)")
	f.StringVar(&opts.keep, "keep", "", "days to keep before today: 30d, or a duration of whole days such as 720h")
	f.StringVar(&opts.before, "before", "", "cutoff day: windows that start before it go (2026-10-01)")
	f.BoolVar(&opts.dryRun, "dry-run", false, "list what would be dropped, drop nothing")
	return cmd
}

func runRetention(cmd *cobra.Command, opts retentionOptions, now time.Time) error {
	if opts.config == "" {
		return usageErrorf("retention: --config FILE is required")
	}
	cfg, err := loadConfig(opts.config, os.Getenv)
	if err != nil {
		return err
	}
	cutoff, err := retentionCutoff(opts, now, cfg.Spec.Window+cfg.Spec.AllowedLateness)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	client, err := clickhouse.Open(ctx, cfg.File.ClickHouse)
	if err != nil {
		return err
	}
	defer client.Close()
	list, verb := client.DropPartitionsBefore, "dropped"
	if opts.dryRun {
		list, verb = client.PartitionsBefore, "would drop"
	}
	parts, err := list(ctx, cutoff)
	out := cmd.OutOrStdout()
	for _, p := range parts {
		fmt.Fprintf(out, "%s %s\n", verb, p)
	}
	if err != nil {
		return err
	}
	if len(parts) == 0 {
		fmt.Fprintf(out, "nothing before %s\n", cutoff.Format(time.DateOnly))
	}
	return nil
}

// retentionCutoff reads --keep or --before: a UTC day no later than the
// day of now - open (the window and its allowed lateness), which may
// still hold open windows.
func retentionCutoff(opts retentionOptions, now time.Time, open time.Duration) (time.Time, error) {
	var cutoff time.Time
	switch {
	case (opts.keep == "") == (opts.before == ""):
		return time.Time{}, usageErrorf("retention: give one of --keep and --before")
	case opts.keep != "":
		days, err := parseDays(opts.keep)
		if err != nil {
			return time.Time{}, usageErrorf("retention: --keep %q: %v", opts.keep, err)
		}
		cutoff = dayOf(now).AddDate(0, 0, -days)
	default:
		t, err := parseTimeFlag("retention", "--before", opts.before)
		if err != nil {
			return time.Time{}, err
		}
		if !t.Equal(dayOf(t)) {
			return time.Time{}, usageErrorf("retention: --before %q is not a day (midnight UTC)", opts.before)
		}
		cutoff = t
	}
	if latest := dayOf(now.Add(-open)); cutoff.After(latest) {
		return time.Time{}, usageErrorf("retention: cutoff %s would drop windows that may still be open: the latest cutoff now is %s (the window and its allowed lateness before now)",
			cutoff.Format(time.DateOnly), latest.Format(time.DateOnly))
	}
	return cutoff, nil
}

// parseDays reads "30d" or a Go duration of whole days ("720h"), at
// least one day.
func parseDays(s string) (int, error) {
	var days int
	if n, ok := strings.CutSuffix(s, "d"); ok {
		v, err := strconv.Atoi(n)
		if err != nil {
			return 0, fmt.Errorf("not a number of days")
		}
		days = v
	} else {
		d, err := time.ParseDuration(s)
		if err != nil || d%(24*time.Hour) != 0 {
			return 0, fmt.Errorf("want whole days: 30d or 720h")
		}
		days = int(d / (24 * time.Hour))
	}
	if days < 1 {
		return 0, fmt.Errorf("keep at least 1 day")
	}
	return days, nil
}

func dayOf(t time.Time) time.Time { return t.UTC().Truncate(24 * time.Hour) }
