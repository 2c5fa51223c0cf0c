package main

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/cohortline/cohortline/cmd/internal/configfile"
	"github.com/cohortline/cohortline/cohorts"
	"github.com/cohortline/cohortline/cohorts/publish"
	"github.com/cohortline/cohortline/sinks/clickhouse"
)

func newPrivacyCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "privacy",
		Short: "Privacy accounting of the configured cohort spec",
	}
	var configPath, window string
	plan := &cobra.Command{
		Use:   "plan",
		Short: "Print the noise, expected errors and privacy loss of the configured spec",
		Long: `Plan prints, for the cohort spec and publish budget of --config (or the
defaults), the standard deviation of every block's noise, the expected
relative error (sigma / value) for cohorts of 50, 200, 1000 and 5000 users
under the default activity profile (measured on the generated realistic
day, daily or hourly), the (epsilon, delta) of one release of a window and
of a person-day, and how many releases of every window a day the budget
allows. It reads no server, unless --window asks for the activity profile
measured from that window's partials (in the config's ClickHouse).`,
		Example: `  cohortline privacy plan --config deploy/cohortline.example.yaml`,
		Args:    usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			spec, budget, ch, err := planConfig(configPath)
			if err != nil {
				return err
			}
			profile := publish.ProfileFor(spec.Window)
			if window != "" {
				if profile, err = measuredProfile(cmd.Context(), spec, ch, window); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "activity profile measured from the partials of the window starting %s\n", window)
			}
			p, err := publish.MakePlan(spec, budget, profile)
			if err != nil {
				return err
			}
			return p.Write(cmd.OutOrStdout())
		},
	}
	plan.Flags().StringVar(&configPath, "config", "", "config file whose cohorts and publish.budget sections to plan (default: the defaults)")
	plan.Flags().StringVar(&window, "window", "", "measure the activity profile from the partials of the window starting at this RFC 3339 time (reads the config's ClickHouse)")
	cmd.AddCommand(plan)
	return cmd
}

// planConfig reads the spec, budget and ClickHouse settings of a config
// file, checking only the spec and budget (no Kafka or secret is needed).
func planConfig(path string) (cohorts.Spec, publish.Budget, clickhouse.Config, error) {
	if path == "" {
		return cohorts.DefaultSpec(), publish.Budget{}, clickhouse.Config{}, nil
	}
	file, spec, err := loadSpecConfig(path)
	if err != nil {
		return cohorts.Spec{}, publish.Budget{}, clickhouse.Config{}, err
	}
	if err := publish.CheckNoise(spec); err != nil {
		return cohorts.Spec{}, publish.Budget{}, clickhouse.Config{}, fmt.Errorf("config %s: %w", path, err)
	}
	budget := file.Publish.Budgets()
	if err := publish.CheckAllowances(budget); err != nil {
		return cohorts.Spec{}, publish.Budget{}, clickhouse.Config{}, fmt.Errorf("config %s: %w", path, err)
	}
	return spec, budget, file.ClickHouse, nil
}

// measuredProfile is the activity profile of the partials of the window
// starting at start (a time flag, timeflag.go), read from ClickHouse.
func measuredProfile(ctx context.Context, spec cohorts.Spec, ch clickhouse.Config, start string) (publish.Profile, error) {
	from, err := parseWindowFlag("privacy plan", "--window", start, spec.Window)
	if err != nil {
		return nil, err
	}
	// The password (password_env, password_file, or the environment) only
	// now: a plan without --window connects to nothing.
	if err := configfile.CheckClickHouse(&ch, os.Getenv); err != nil {
		return nil, usageErrorf("privacy plan: %v", err)
	}
	client, err := clickhouse.Open(ctx, ch)
	if err != nil {
		return nil, err
	}
	defer client.Close()
	rows, err := client.CurrentPartials(ctx, from, from.Add(spec.Window))
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("no partials in the window starting %s: nothing to measure", start)
	}
	parts := make([]cohorts.Partial, len(rows))
	for i, r := range rows {
		parts[i] = cohorts.Partial{Users: r.Users, Events: r.Events, Values: r.Values}
	}
	return publish.ProfileOf(parts), nil
}
