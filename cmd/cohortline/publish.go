package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/cohortline/cohortline/cohorts/publish"
	"github.com/cohortline/cohortline/sinks/clickhouse"
)

func newPublishCmd() *cobra.Command {
	var path, window, from, to string
	cmd := &cobra.Command{
		Use:   "publish --config FILE (--window T | --from T1 --to T2)",
		Short: "Publish windows: k-anonymous, differentially private cohort enrichments",
		Long: `Publish releases the windows that start in a time range (or one window): it
sums their partials over all partitions, keeps the finest cohorts whose noisy
user count reaches k, merges the rest upward along the spec's generalize order,
suppresses what stays below k, adds deterministic discrete-Laplace noise, and
writes cohort_enrichment, after a privacy_ledger row (with the secret's key id,
the mode and the computed delta) and a published_releases row. A release over the
budget (publish.budget) is refused and writes nothing; a republish of the same
partials under the same COHORTLINE_SECRET gives the same numbers and spends
nothing (under another secret it is charged). A published database takes the
releases of one mode: a test or development publish into one that holds
production releases (or the reverse) is refused and writes nothing.

run publishes by itself (publish.auto); this command is for republishing a
range, for example after stragglers or a backfill. One publisher at a time:
publish, backfill and run's automatic publisher take a lease in ClickHouse
first, and wait for it up to publish.lease_wait.

Times are UTC: 2026-11-24T10:00:00Z, 2026-11-24T10:00 or 2026-11-24. It uses
the config file of run (only its cohorts, clickhouse, publish and mode keys
matter) and COHORTLINE_SECRET, which keys the noise.`,
		Example: `  cohortline publish --config cohortline.yaml --window 2026-11-24T10:00
  cohortline publish --config cohortline.yaml --from 2026-11-23 --to 2026-11-24`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if path == "" {
				return usageErrorf("publish: --config FILE is required")
			}
			cfg, err := loadConfig(path, os.Getenv)
			if err != nil {
				return err
			}
			cfg.File.WarnInsecure(slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil)))
			start, end, err := publishRange(window, from, to, cfg.Spec.Window)
			if err != nil {
				return err
			}
			return runPublish(cmd, cfg, start, end)
		},
	}
	f := cmd.Flags()
	f.StringVar(&path, "config", "", "YAML config file, as for run (required)")
	f.StringVar(&window, "window", "", "start of the one window to publish")
	f.StringVar(&from, "from", "", "publish the windows that start at or after this time")
	f.StringVar(&to, "to", "", "… and before this time")
	return cmd
}

// publishRange turns the flags into [start, end).
func publishRange(window, from, to string, size time.Duration) (time.Time, time.Time, error) {
	switch {
	case window != "" && (from != "" || to != ""):
		return time.Time{}, time.Time{}, usageErrorf("publish: give --window or --from and --to, not both")
	case window != "":
		t, err := parseWindowFlag("publish", "--window", window, size)
		if err != nil {
			return time.Time{}, time.Time{}, err
		}
		return t, t.Add(size), nil
	case from == "" || to == "":
		return time.Time{}, time.Time{}, usageErrorf("publish: give --window, or both --from and --to")
	}
	t1, err := parseTimeFlag("publish", "--from", from)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	t2, err := parseTimeFlag("publish", "--to", to)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	if !t2.After(t1) {
		return time.Time{}, time.Time{}, usageErrorf("publish: --to %s is not after --from %s", to, from)
	}
	return t1, t2, nil
}

func runPublish(cmd *cobra.Command, cfg *config, start, end time.Time) error {
	ctx := cmd.Context()
	client, err := clickhouse.Open(ctx, cfg.File.ClickHouse)
	if err != nil {
		return err
	}
	defer client.Close()
	// Publish reads partials that run or backfill wrote: a database they
	// never migrated is a wrong name, not one to create.
	if migrated, err := client.HasMigrated(ctx); err != nil {
		return err
	} else if !migrated {
		return usageErrorf("publish: clickhouse.database %q on %s was never migrated: no partials were ever written there; check the name (cohortline run, backfill and migrate create it)",
			cfg.File.ClickHouse.Database, strings.Join(cfg.File.ClickHouse.Addr, ","))
	}
	// A published database configured after the internal one gets its
	// tables (another k over the same partials).
	if _, err := client.Migrate(ctx); err != nil {
		return err
	}
	pub, err := newPublisher(ctx, cfg, client, "publish")
	if err != nil {
		return err
	}
	results, err := pub.PublishRange(ctx, start, end)
	printReleases(cmd.OutOrStdout(), pub.Release(), results)
	if err != nil {
		return err
	}
	if len(results) == 0 {
		return fmt.Errorf("no partials in [%s, %s): nothing to publish", start.Format(time.RFC3339), end.Format(time.RFC3339))
	}
	return nil
}

// newPublisher prepares publishing on client: the feature dictionary the
// rows refer to, and a Publisher with cfg's spec, noise, budget and mode,
// whose sessions take the publish lease as role.
func newPublisher(ctx context.Context, cfg *config, client *clickhouse.Client, role string) (*publish.Publisher, error) {
	if err := client.WriteFeatureDictionary(ctx, clickhouse.FeatureDictionary()); err != nil {
		return nil, err
	}
	pc, err := cfg.Publisher()
	if err != nil {
		return nil, err
	}
	return publish.NewPublisher(pc, newStore(cfg, client, role))
}

func printReleases(w io.Writer, release string, results []publish.Result) {
	if len(results) == 0 {
		return
	}
	fmt.Fprintf(w, "release %s\n", release)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "window\trows\tfinest\tpublished as is\tmerged up\tsuppressed\tepsilon spent\trepublish\t")
	for _, r := range results {
		s := r.Stats
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%g\t%t\t\n", r.Window, s.Rows, s.Finest, s.PublishedFinest, s.Merged, s.Suppressed, r.Ledger.EpsilonSpent, r.Ledger.Republish)
	}
	tw.Flush()
}

// newStore is the Store of a publisher run by role ("publish",
// "backfill", "run", "demo"), taking the lease as cfg says.
func newStore(cfg *config, client *clickhouse.Client, role string) clickhouse.PublishStore {
	return client.PublishStore(clickhouse.LeaseConfig{
		Holder: clickhouse.LeaseHolder(role), TTL: cfg.File.Publish.LeaseTTL, Wait: cfg.File.Publish.LeaseWait,
	})
}
