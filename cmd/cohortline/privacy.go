package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/cohortline/cohortline/cohorts"
	"github.com/cohortline/cohortline/cohorts/publish"
)

// allowanceConfig is a per-person (ε, δ) allowance of publish.budget.
type allowanceConfig struct {
	Epsilon float64 `yaml:"epsilon"`
	Delta   float64 `yaml:"delta"`
}

// budget is the publish.Budget of the checked config.
func (p *publishConfig) budget() publish.Budget {
	return publish.Budget{
		PerWindow: p.Budget.PerWindow, PerDay: p.Budget.PerDay,
		Day:  publish.Allowance(p.Budget.Day),
		Week: publish.Allowance(p.Budget.Week),
	}
}

func newPrivacyCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "privacy",
		Short: "Privacy accounting of the configured cohort spec",
	}
	var configPath string
	plan := &cobra.Command{
		Use:   "plan",
		Short: "Print the noise, expected errors and privacy loss of the configured spec",
		Long: `Plan prints, for the cohort spec and publish budget of --config (or the
defaults), the standard deviation of every block's noise, the expected
relative error (sigma / value) for cohorts of 50, 200, 1000 and 5000 users
under the default activity profile (measured on the generated realistic
day, daily or hourly), the (epsilon, delta) of one release of a window and
of a person-day, and how many releases of every window a day the budget
allows. It reads no server.`,
		Example: `  cohortline privacy plan --config deploy/cohortline.example.yaml`,
		Args:    usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			spec, budget, err := planConfig(configPath)
			if err != nil {
				return err
			}
			p, err := publish.MakePlan(spec, budget, publish.ProfileFor(spec.Window))
			if err != nil {
				return err
			}
			return p.Write(cmd.OutOrStdout())
		},
	}
	plan.Flags().StringVar(&configPath, "config", "", "config file whose cohorts and publish.budget sections to plan (default: the defaults)")
	cmd.AddCommand(plan)
	return cmd
}

// planConfig reads the spec and budget of a config file, checking only
// those sections (no Kafka, ClickHouse or secret is needed).
func planConfig(path string) (cohorts.Spec, publish.Budget, error) {
	if path == "" {
		return cohorts.DefaultSpec(), publish.Budget{}, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return cohorts.Spec{}, publish.Budget{}, usageErrorf("reading config: %w", err)
	}
	file, err := decodeConfig(data)
	if err != nil {
		return cohorts.Spec{}, publish.Budget{}, usageErrorf("config %s: %w", path, err)
	}
	spec, err := specOf(&file.Cohorts)
	if err != nil {
		return cohorts.Spec{}, publish.Budget{}, usageErrorf("config %s: %w", path, err)
	}
	if err := publish.CheckNoise(spec); err != nil {
		return cohorts.Spec{}, publish.Budget{}, fmt.Errorf("config %s: %w", path, err)
	}
	return spec, file.Publish.budget(), nil
}
