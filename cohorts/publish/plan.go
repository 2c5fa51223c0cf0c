package publish

import (
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cohortline/cohortline/cohorts"
	"github.com/cohortline/cohortline/cohorts/privacy"
)

// Profile is an activity profile: the mean per user, in one window, of
// every slot of a layout-2 partial (cohorts.PartialFeatures), by name.
// A slot absent from the map is 0.
type Profile map[string]float64

// ProfileOf measures the profile of a window's partials: each slot's sum
// over all cohorts divided by the users.
func ProfileOf(partials []cohorts.Partial) Profile {
	var users float64
	sums := make([]float64, cohorts.NumPartialValues())
	for _, p := range partials {
		users += float64(p.Users)
		for i, v := range p.Values {
			sums[i] += float64(v)
		}
	}
	out := Profile{}
	if users == 0 {
		return out
	}
	for _, f := range cohorts.PartialFeatures() {
		if sums[f.Index] > 0 {
			out[f.Name] = sums[f.Index] / users
		}
	}
	return out
}

// PlanSizes are the cohort sizes a Plan reports errors for.
var PlanSizes = [...]int{50, 200, 1000, 5000}

// BlockPlan is one block of a Plan.
type BlockPlan struct {
	Name      string
	Mechanism string
	Slots     int
	Off       bool
	Sigma     float64 // standard deviation of each slot's noise
	Rho       float64 // zCDP ρ the block spends per release
	Epsilon   float64 // pure ε, 0 for a Gaussian block
}

// ErrorRow is the expected relative error σ/value of one feature for a
// cohort of each of PlanSizes users with the profile's activity.
type ErrorRow struct {
	Feature string
	RelErr  [len(PlanSizes)]float64 // NaN when the feature is off or 0
}

// Plan is what a spec and budget give: noise, errors and privacy loss.
type Plan struct {
	Spec          cohorts.Spec
	Budget        Budget
	Blocks        []BlockPlan
	UsersSigma    float64   // of the published users count (after combining, feature set 2)
	SlotSigma     []float64 // by feature slot of the spec's feature set; NaN when off
	Errors        []ErrorRow
	WindowRho     float64 // one release of one window
	WindowEpsilon float64 // at WindowDelta
	WindowDelta   float64 // the spec's δ
	WindowsPerDay int
	// DayRho, DayEpsilon, DayDelta: one release of every window of a day,
	// as a person active all day spends it.
	DayRho, DayEpsilon, DayDelta float64
	// ReleasesPerDay is how many releases of every window of a day the
	// day's allowance holds, ReleasesPerWeek how many the week's holds
	// (over its 7 days); -1 for no limit.
	ReleasesPerDay, ReleasesPerWeek int
}

// planFeatures are the features of the error table: the rows.
var planFeatures = []struct{ label, fs1, fs2 string }{
	{"users", "users", "users"},
	{"reach, message_sent", "reach.kind.message_sent", "reach.kind.message_sent"},
	{"reach, one business category (group in fs2)", "reach.category.retail_fashion", "reach.category_group.shopping"},
	{"sum, message_sent", "sum.kind.message_sent", "sum.kind.message_sent"},
	{"events total", "events", "events"},
	{"histogram bucket 2-5 events", "hist.events.2_5", "hist.events.2_5"},
	{"call seconds", "sum.call_seconds", "sum.call_seconds"},
}

// MakePlan computes the plan of spec under budget for profile.
func MakePlan(spec cohorts.Spec, budget Budget, profile Profile) (Plan, error) {
	if err := spec.Validate(); err != nil {
		return Plan{}, err
	}
	fs := cohorts.MustFeatureSet(spec.FeatureSet)
	p := Plan{Spec: spec, Budget: budget, WindowDelta: spec.Privacy.Delta, WindowsPerDay: int(24 * time.Hour / spec.Window)}
	p.SlotSigma = make([]float64, fs.Len())
	var usersVar, histVar, threshold float64
	if spec.FeatureSet == cohorts.FeatureSetV2Version {
		z, err := privacy.SplitZCDP(spec)
		if err != nil {
			return Plan{}, err
		}
		if budget.Day.IsZero() {
			p.Budget.Day = DefaultBudget.Day
		}
		if budget.Week.IsZero() {
			p.Budget.Week = DefaultBudget.Week
		}
		for _, b := range z.Blocks {
			bp := BlockPlan{Name: b.Name, Mechanism: b.Mechanism.String(), Slots: len(b.Slots), Off: b.Off, Rho: b.Rho, Epsilon: b.Epsilon, Sigma: math.NaN()}
			if !b.Off {
				bp.Sigma = math.Sqrt(b.Scale.Variance())
			}
			p.Blocks = append(p.Blocks, bp)
			for _, s := range b.Slots {
				if s == privacy.SlotUsers {
					usersVar = b.Scale.Variance()
				} else {
					p.SlotSigma[s] = bp.Sigma
				}
			}
			if b.Name == "hist" && !b.Off {
				histVar = float64(len(b.Slots)) * b.Scale.Variance()
			}
		}
		p.WindowRho = z.RhoSpent()
		threshold = z.ReleaseDelta(spec.K)
		p.WindowEpsilon = privacy.EpsilonOf(p.WindowRho, spec.Privacy.Delta-threshold)
	} else {
		b, err := privacy.Split(spec, spec.Privacy.Epsilon)
		if err != nil {
			return Plan{}, err
		}
		for _, bl := range b.Blocks {
			sigma := math.Sqrt(bl.Scale.Variance())
			rho := bl.Scale.Rho(bl.Sensitivity)
			p.Blocks = append(p.Blocks, BlockPlan{Name: bl.Name, Mechanism: "laplace", Slots: len(bl.Slots), Sigma: sigma, Rho: rho, Epsilon: bl.Epsilon})
			p.WindowRho += rho
			for _, s := range bl.Slots {
				if s == privacy.SlotUsers {
					usersVar = bl.Scale.Variance()
				} else {
					p.SlotSigma[s] = sigma
				}
			}
		}
		threshold = privacy.ReleaseDelta(&b, spec.K)
		p.WindowEpsilon = spec.Privacy.Epsilon
	}
	p.UsersSigma = math.Sqrt(usersVar)
	if histVar > 0 {
		p.UsersSigma = math.Sqrt(1 / (1/usersVar + 1/histVar))
	}
	day := spending{rho: float64(p.WindowsPerDay) * p.WindowRho, delta: float64(p.WindowsPerDay) * threshold,
		pure: float64(p.WindowsPerDay) * spec.Privacy.Epsilon, allPure: spec.FeatureSet == cohorts.FeatureSetV1Version}
	p.DayRho, p.DayDelta = day.rho, spec.Privacy.Delta*float64(p.WindowsPerDay)
	if !p.Budget.Day.IsZero() {
		p.DayDelta = p.Budget.Day.Delta
	}
	p.DayEpsilon = day.epsilon(p.DayDelta)
	p.ReleasesPerDay = releasesWithin(p.Budget.Day, day)
	p.ReleasesPerWeek = releasesWithin(p.Budget.Week, day)
	p.Errors = planErrors(spec, fs, profile, p)
	return p, nil
}

// releasesWithin is the most n releases of every window of a day (each
// spending day) that allowance a holds; -1 without limit.
func releasesWithin(a Allowance, day spending) int {
	if a.IsZero() {
		return -1
	}
	n := 0
	for n < 10000 {
		m := float64(n + 1)
		s := spending{rho: m * day.rho, delta: m * day.delta, pure: m * day.pure, allPure: day.allPure}
		if s.epsilon(a.Delta) > a.Epsilon {
			break
		}
		n++
	}
	return n
}

func planErrors(spec cohorts.Spec, fs *cohorts.FeatureSet, profile Profile, p Plan) []ErrorRow {
	means := make([]float64, cohorts.NumPartialValues())
	for _, f := range cohorts.PartialFeatures() {
		means[f.Index] = profile[f.Name]
	}
	proj := make([]float64, fs.Len())
	fs.ProjectFloat(proj, means)
	var out []ErrorRow
	for _, pf := range planFeatures {
		name := pf.fs2
		if fs.Version == cohorts.FeatureSetV1Version {
			name = pf.fs1
		}
		var mean, sigma float64
		switch name {
		case "users":
			mean, sigma = 1, p.UsersSigma
		case "events":
			var v float64
			for _, f := range fs.Features {
				if f.Kind == cohorts.FeatureSum && f.Group == "kind" {
					mean += proj[f.Index]
					v += p.SlotSigma[f.Index] * p.SlotSigma[f.Index]
				}
			}
			sigma = math.Sqrt(v)
		default:
			i := fs.Slot(name)
			if i < 0 {
				continue
			}
			mean, sigma = proj[i], p.SlotSigma[i]
		}
		row := ErrorRow{Feature: pf.label}
		for j, n := range PlanSizes {
			row.RelErr[j] = sigma / (mean * float64(n))
			if mean == 0 {
				row.RelErr[j] = math.NaN()
			}
		}
		out = append(out, row)
	}
	return out
}

// Write prints the plan for people: blocks, the error table, and the
// privacy loss per window and per person-day.
func (p Plan) Write(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "feature set %d, window %s, k %d\n\n", p.Spec.FeatureSet, p.Spec.Window, p.Spec.K)
	fmt.Fprintln(tw, "block\tmechanism\tslots\tsigma\trho\tpure epsilon")
	for _, b := range p.Blocks {
		if b.Off {
			fmt.Fprintf(tw, "%s\toff\t%d\t-\t0\t-\n", b.Name, b.Slots)
			continue
		}
		eps := "-"
		if b.Epsilon > 0 {
			eps = fmt.Sprintf("%.4g", b.Epsilon)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%.4g\t%.4g\t%s\n", b.Name, b.Mechanism, b.Slots, b.Sigma, b.Rho, eps)
	}
	fmt.Fprintf(tw, "\nexpected relative error (sigma / value) by cohort size\nfeature")
	for _, n := range PlanSizes {
		fmt.Fprintf(tw, "\tn = %d", n)
	}
	fmt.Fprintln(tw)
	for _, r := range p.Errors {
		fmt.Fprint(tw, r.Feature)
		for _, e := range r.RelErr {
			fmt.Fprintf(tw, "\t%s", pct(e))
		}
		fmt.Fprintln(tw)
	}
	fmt.Fprintf(tw, "\nper window: rho %.4g, epsilon %.4g at delta %g\n", p.WindowRho, p.WindowEpsilon, p.WindowDelta)
	fmt.Fprintf(tw, "per person-day (%d windows): rho %.4g, epsilon %.4g at delta %g\n", p.WindowsPerDay, p.DayRho, p.DayEpsilon, p.DayDelta)
	if p.ReleasesPerDay >= 0 {
		fmt.Fprintf(tw, "budget per person-day: epsilon %g at delta %g: %d release(s) of every window a day\n", p.Budget.Day.Epsilon, p.Budget.Day.Delta, p.ReleasesPerDay)
	}
	if p.ReleasesPerWeek >= 0 {
		fmt.Fprintf(tw, "budget per person-week: epsilon %g at delta %g: %d release(s) of every window a week (%.3g a day)\n",
			p.Budget.Week.Epsilon, p.Budget.Week.Delta, p.ReleasesPerWeek, float64(p.ReleasesPerWeek)/7)
	}
	return tw.Flush()
}

// pct formats a relative error as the table does.
func pct(e float64) string {
	switch {
	case math.IsNaN(e):
		return "-"
	case e >= 10:
		return strings.TrimSuffix(fmt.Sprintf("%.0f%%", 100*e), ".0")
	case e >= 0.1:
		return fmt.Sprintf("%.0f%%", 100*e)
	}
	return fmt.Sprintf("%.2g%%", 100*e)
}
