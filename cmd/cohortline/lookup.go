package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cohortline/cohortline/cmd/internal/configfile"
	"github.com/cohortline/cohortline/cohorts"
	"github.com/cohortline/cohortline/sinks/clickhouse"
)

// lookupFlags are the command line of `lookup`.
type lookupFlags struct {
	attrs      map[cohorts.Dimension]*string // --country, --lang, --age, --platform
	window     string
	configPath string
	addr       string
	database   string // --published-database
	user       string
	json       bool
}

// lookupRequest is a checked lookup: what to look up, and where.
type lookupRequest struct {
	spec   cohorts.Spec
	finest cohorts.Key
	window time.Time // zero: the newest window of each cohort
	ch     clickhouse.Config
}

func newLookupCmd() *cobra.Command {
	cmd, _ := lookupCommand()
	return cmd
}

// lookupCommand returns the command and the flags it parses into.
func lookupCommand() (*cobra.Command, *lookupFlags) {
	f := &lookupFlags{attrs: map[cohorts.Dimension]*string{}}
	cmd := &cobra.Command{
		Use:   "lookup --country CC --lang ll --age BAND --platform P [flags]",
		Short: "Show the published cohort of a person's attributes: the targeter's view",
		Long: `Lookup finds what the targeter would read for someone with the given
attributes. It builds their finest cohort key from the cohort spec (the
cohorts section of --config, else the default spec: country, lang, age,
platform), then reads, in one query, that cohort and each generalization of
it along the spec's generalize order from the targeter's views, and shows the
most specific one published: its window, key, id, level, users and every
feature by name (from feature_dictionary), with per_user = value / users
(the share of the cohort's users for "users" features, a mean per user for
events and seconds).

Without --window it reads each cohort's newest window from the lookup table
cohort_latest; with --window, the window that starts then from the view
cohort_enrichment_current. Both show one version per cohort and window, the
newest publish, of releases in the privacy ledger only. Values are noised
(differential privacy) and every row covers at least k users.

Every flag a spec dimension needs is required, and a flag of a dimension the
spec lacks is an error. Values are spelled as in the event contract: country
ISO 3166-1 alpha-2 upper case, lang ISO 639-1 lower case, age one of 18-24,
25-34, 35-44, 45-54, 55-64, 65+, unknown, platform one of android, ios, web,
desktop.

It only reads the published database, so it works with the targeter's
read-only account: --user targeter, with the password in
` + configfile.EnvClickHousePassword + `.

Exit status: 0 found, 1 no published cohort covers the attributes (or
ClickHouse failed), 2 bad flags or configuration.`,
		Example: `  cohortline lookup --country BR --lang pt --age 25-34 --platform android
  COHORTLINE_CLICKHOUSE_PASSWORD=… cohortline lookup --user targeter \
      --country BR --lang pt --age 25-34 --platform android --window 2026-11-01T10:00:00Z --json`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			req, err := f.request(cmd, os.Getenv)
			if err != nil {
				return err
			}
			return runLookup(cmd, req, f.json)
		},
	}
	fs := cmd.Flags()
	for _, d := range []cohorts.Dimension{cohorts.DimCountry, cohorts.DimLang, cohorts.DimAge, cohorts.DimPlatform} {
		f.attrs[d] = fs.String(string(d), "", "the person's "+string(d)+", if the cohort spec has that dimension")
	}
	fs.StringVar(&f.window, "window", "", "start of the window to read (2026-11-01T10:00:00Z, 2026-11-01T10:00 UTC or 2026-11-01); default: each cohort's newest")
	fs.StringVar(&f.configPath, "config", "", "YAML config file: its cohorts and clickhouse sections are used, nothing else")
	fs.StringVar(&f.addr, "clickhouse", "", "ClickHouse native-protocol address host:port, or several separated by commas (default: the config's, else $"+envClickHouse+", else "+clickhouse.DefaultAddr+")")
	fs.StringVar(&f.database, "published-database", "", "database of the published tables (default: the config's, else cohortline_published)")
	fs.StringVar(&f.user, "user", "", "ClickHouse user, e.g. targeter (default: the config's, else default); the password comes from $"+configfile.EnvClickHousePassword)
	fs.BoolVar(&f.json, "json", false, "print one JSON object instead of text")
	return cmd, f
}

// request checks the flags and the config file; every error is a usage
// error (exit 2).
func (f *lookupFlags) request(cmd *cobra.Command, getenv func(string) string) (lookupRequest, error) {
	var req lookupRequest
	spec, ch, err := f.config(getenv)
	if err != nil {
		return req, err
	}
	req.spec = spec
	changed := cmd.Flags().Changed
	if changed("clickhouse") {
		ch.Addr = strings.Split(f.addr, ",")
	} else if len(ch.Addr) == 0 && getenv(envClickHouse) != "" {
		ch.Addr = strings.Split(getenv(envClickHouse), ",")
	}
	if changed("published-database") {
		ch.PublishedDatabase = f.database
	}
	if changed("user") {
		ch.Username = f.user
	}
	if err := configfile.CheckClickHouse(&ch, getenv); err != nil {
		return req, usageErrorf("lookup: %v", err)
	}
	req.ch = ch

	attrs := map[cohorts.Dimension]string{}
	for d, v := range f.attrs {
		if changed(string(d)) {
			attrs[d] = *v
		}
	}
	if req.finest, err = cohorts.KeyFromAttributes(spec, attrs); err != nil {
		return req, usageErrorf("lookup: %v", err)
	}
	if changed("window") {
		if req.window, err = parseWindowFlag("lookup", "--window", f.window, spec.Window); err != nil {
			return req, err
		}
	}
	return req, nil
}

// config returns the spec and the ClickHouse settings of --config, or the
// defaults. Only those two sections are checked: lookup needs neither
// Kafka nor the secret.
func (f *lookupFlags) config(getenv func(string) string) (cohorts.Spec, clickhouse.Config, error) {
	if f.configPath == "" {
		return cohorts.DefaultSpec(), clickhouse.Config{}, nil
	}
	file, spec, err := loadSpecConfig(f.configPath)
	return spec, file.ClickHouse, err
}

// runLookup reads the candidates and prints the most specific one found.
//
// The context has no deadline on purpose: clickhouse-go turns a deadline
// into a max_execution_time setting, which current ClickHouse refuses to a
// readonly=1 account (18.16 ignores it); the targeter's profile bounds the
// query's time instead.
func runLookup(cmd *cobra.Command, req lookupRequest, asJSON bool) error {
	ctx := cmd.Context()
	client, err := clickhouse.Open(ctx, req.ch)
	if err != nil {
		return err // names the address
	}
	defer client.Close()
	found, err := client.Lookup(ctx, req.spec, req.finest, req.window)
	if err != nil {
		return err
	}
	row := found.Row
	dict, err := client.FeatureDictionary(ctx, row.FeatureSet)
	if err != nil {
		return err
	}
	res := newLookupResult(req.finest, found.Level, found.Levels, row, dict)
	if noise, err := client.ReadFeatureNoise(ctx, row.Release); err != nil {
		fmt.Fprintf(cmd.ErrOrStderr(), "cohortline: lookup: no error bars: %v\n", err)
	} else {
		res.addNoise(noise)
	}
	if len(dict) == 0 {
		fmt.Fprintf(cmd.ErrOrStderr(), "cohortline: lookup: %s.feature_dictionary has no names for feature set %d; features are shown by index\n",
			req.ch.Published(), row.FeatureSet)
	}
	if asJSON {
		return res.writeJSON(cmd.OutOrStdout())
	}
	return res.writeText(cmd.OutOrStdout())
}
