package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"strings"
	"text/tabwriter"

	"github.com/cohortline/cohortline/cmd/internal/console"
	"github.com/cohortline/cohortline/cohorts"
	"github.com/cohortline/cohortline/cohorts/publish"
	"github.com/cohortline/cohortline/sinks/clickhouse"
)

// demoFeatures are the slots the top-cohorts table shows, by their
// feature_dictionary names: the cohort's users by how many events they
// had in the window. Their noise is the smallest of any feature (a user is
// in one bucket: sensitivity 1); reach and sums are noised in proportion
// to the number of reach slots and to the contribution bounds, which the
// noise line under the table shows for every column.
var demoFeatures = []string{"hist.events.1", "hist.events.2_5", "hist.events.6_20", "hist.events.21_100"}

// report prints the largest published cohorts of the busiest window and
// the SQL to read them, as the targeter would.
func (d *demo) report(ctx context.Context, w io.Writer) error {
	rows, err := d.client.TopCohorts(ctx, d.opts.top)
	if err != nil {
		return err
	}
	if len(rows) == 0 {
		return errors.New("no cohort was published: every cohort stayed below k, even generalized (generate more users)")
	}
	dict, err := d.client.FeatureDictionary(ctx, rows[0].FeatureSet)
	if err != nil {
		return err
	}
	slots := make([]int, len(demoFeatures))
	for i, name := range demoFeatures {
		slots[i] = -1
		for _, e := range dict {
			if e.Name == name {
				slots[i] = int(e.Index)
			}
		}
		if slots[i] < 0 {
			return fmt.Errorf("%s.feature_dictionary has no slot named %s in feature set %d", d.cfg.File.ClickHouse.PublishedDatabase, name, rows[0].FeatureSet)
		}
	}
	ws := rows[0].WindowStart
	fmt.Fprintf(w, "\nThe %d largest published cohorts of the busiest window, %s to %s UTC.\n", len(rows), ws.Format("2006-01-02 15:04"), rows[0].WindowEnd.Format("15:04"))
	fmt.Fprintf(w, "Counts carry differential-privacy noise, and every row covers at least k=%d users.\n\n", d.cfg.Spec.K)
	writeTopTable(w, rows, slots)
	if *d.cfg.File.Publish.Noise {
		if err := writeNoise(w, d.cfg.Spec); err != nil {
			return err
		}
	}
	writeQueries(w, d, rows, slots)
	return nil
}

// writeNoise prints the short form of `cohortline privacy plan`: the
// standard deviation of the noise of each block of slots (the columns
// above are in "users" and "hist") and the privacy loss per person-day,
// the price of the guarantee, large next to small counts.
func writeNoise(w io.Writer, spec cohorts.Spec) error {
	plan, err := publish.MakePlan(spec, publish.Budget{}, publish.ProfileFor(spec.Window))
	if err != nil {
		return fmt.Errorf("cohorts: privacy: %w", err)
	}
	var parts []string
	for _, b := range plan.Blocks {
		if !b.Off {
			parts = append(parts, fmt.Sprintf("%s ±%.0f", b.Name, b.Sigma))
		}
	}
	fmt.Fprintf(w, "\nNoise, one standard deviation, by block of features (feature set %d, %s):\n%s.\nPer person-day: ε=%.3g at δ=%g (`cohortline privacy plan` shows the expected errors).\n",
		spec.FeatureSet, budgetText(spec), strings.Join(parts, ", "), plan.DayEpsilon, plan.DayDelta)
	return nil
}

// budgetText says how the window's budget is split.
func budgetText(spec cohorts.Spec) string {
	if spec.FeatureSet == cohorts.FeatureSetV1Version {
		return fmt.Sprintf("ε=%g per window, split among the blocks", spec.Privacy.Epsilon)
	}
	return fmt.Sprintf("ρ=%g per window, split among the blocks by weight", spec.Privacy.Rho)
}

func writeTopTable(w io.Writer, rows []clickhouse.EnrichmentRow, slots []int) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprint(tw, "cohort_key\tlevel\tusers")
	for _, name := range demoFeatures {
		fmt.Fprint(tw, "\t"+name)
	}
	fmt.Fprintln(tw)
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s", r.CohortKey, levelText(r.Level), console.Count(r.Users))
		for _, s := range slots {
			v := 0.0
			if s < len(r.Features) {
				v = float64(r.Features[s])
			}
			fmt.Fprint(tw, "\t"+console.Count(int64(math.Round(v))))
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
}

// levelText spells a row's level: the dimensions generalized to "*".
func levelText(level string) string {
	if level == "" {
		return "finest"
	}
	return "* " + level
}

// writeQueries prints the SQL that reads the table's cohorts through the
// targeter's views: by key, as a targeter does, and the window of the
// table with features by name.
func writeQueries(w io.Writer, d *demo, rows []clickhouse.EnrichmentRow, slots []int) {
	db := d.cfg.File.ClickHouse.PublishedDatabase
	addr := d.chAddr
	host, port, _ := net.SplitHostPort(strings.Split(addr, ",")[0])
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = "    cityHash64('" + r.CohortKey + "')"
	}
	fmt.Fprintf(w, `
Query them with SQL (clickhouse-client --host %s --port %s). A cohort is found by
cohort_id = cityHash64(cohort_key); cohort_enrichment_latest holds each cohort's
newest window, which is what a targeter reads:

SELECT cohort_key, window_start, users, features
FROM %s.cohort_enrichment_latest
WHERE cohort_id IN (
%s
)
ORDER BY users DESC;
`, host, port, db, strings.Join(ids, ",\n"))

	cols := make([]string, len(slots))
	for i, s := range slots {
		cols[i] = fmt.Sprintf("round(features[%d]) AS `%s`", s+1, demoFeatures[i]) // SQL arrays count from 1
	}
	fmt.Fprintf(w, `
The table above, from the view of every window's current rows (names of the
feature slots: %s.feature_dictionary):

SELECT cohort_key, level, users,
    %s
FROM %s.cohort_enrichment_current
WHERE window_start = toDateTime('%s')
ORDER BY users DESC, cohort_key
LIMIT %d;
`, db, strings.Join(cols, ",\n    "), db, rows[0].WindowStart.Format("2006-01-02 15:04:05"), len(rows))

	for _, r := range rows {
		if r.Level != "" {
			continue
		}
		var flags []string
		for part := range strings.SplitSeq(r.CohortKey, "|") {
			name, value, _ := strings.Cut(part, "=")
			flags = append(flags, "--"+name+" "+value)
		}
		fmt.Fprintf(w, "\nOr look a person up by their attributes, as the targeter would:\n\n  cohortline lookup --clickhouse %s --published-database %s %s\n",
			addr, db, strings.Join(flags, " "))
		break
	}
}
