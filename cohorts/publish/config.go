package publish

import (
	"fmt"
	"time"

	"github.com/cohortline/cohortline/cohorts"
	"github.com/cohortline/cohortline/cohorts/privacy"
)

// Settings is the publish section of the config file: how and when
// windows are released (the privacy parameters themselves are in the
// cohort spec, because they change the published numbers). Check applies
// the defaults documented on each field; PublisherConfig turns it into a
// Publisher's Config.
type Settings struct {
	// Auto makes run publish windows itself, on the instance that owns
	// partition 0 of the topic. Default true.
	Auto *bool `yaml:"auto"`
	// MaxWait is how long after a window's first flush run publishes it
	// even if some partition has not flushed past it yet; stragglers are
	// republished later. Default 10m.
	MaxWait time.Duration `yaml:"max_wait"`
	// Interval is how often run looks for windows to publish. Default 15s.
	Interval time.Duration `yaml:"interval"`
	// Noise is false only in mode test: published values are then exact
	// (bounding still applies), which is for tests and nothing else.
	Noise *bool `yaml:"noise"`
	// Budget caps what releases spend. per_window and per_day cap pure
	// epsilon (feature set 1). Defaults: 3 releases per window, 2 per
	// window of a day (per_day = 2·ε·windows per day). day and week are
	// per-person (ε, δ) allowances accounted in zCDP (Budget); feature
	// set 2 defaults to day ε 8 and week ε 20, both at δ 1e-8
	// (DefaultBudget).
	Budget struct {
		PerWindow float64   `yaml:"per_window"`
		PerDay    float64   `yaml:"per_day"`
		Day       Allowance `yaml:"day"`
		Week      Allowance `yaml:"week"`
	} `yaml:"budget"`
	// LeaseTTL is how long the publish lease lasts unless renewed (every
	// third of it, while publishing): a killed publisher holds up the
	// others this long at most. Default 2m, at least 10s.
	LeaseTTL time.Duration `yaml:"lease_ttl"`
	// LeaseWait is how long publish, backfill's republish and run's
	// automatic publisher wait for a lease another holds before giving up
	// with the holder's name. Default 2m.
	LeaseWait time.Duration `yaml:"lease_wait"`
}

// The defaults of Settings.
const (
	DefaultMaxWait   = 10 * time.Minute
	DefaultInterval  = 15 * time.Second
	DefaultLeaseTTL  = 2 * time.Minute
	DefaultLeaseWait = 2 * time.Minute
	minLeaseTTL      = 10 * time.Second
)

// Check applies defaults and validates against the spec and the mode.
func (p *Settings) Check(mode string, spec cohorts.Spec) error {
	if p.Auto == nil {
		p.Auto = new(bool)
		*p.Auto = true
	}
	if p.Noise == nil {
		p.Noise = new(bool)
		*p.Noise = true
	}
	if p.MaxWait == 0 {
		p.MaxWait = DefaultMaxWait
	}
	if p.Interval == 0 {
		p.Interval = DefaultInterval
	}
	if p.LeaseTTL == 0 {
		p.LeaseTTL = DefaultLeaseTTL
	}
	if p.LeaseWait == 0 {
		p.LeaseWait = DefaultLeaseWait
	}
	eps := spec.Privacy.Epsilon
	if p.Budget.PerWindow == 0 {
		p.Budget.PerWindow = 3 * eps
	}
	if p.Budget.PerDay == 0 {
		p.Budget.PerDay = 2 * eps * float64(24*time.Hour/spec.Window)
	}
	switch {
	case p.MaxWait < 0:
		return fmt.Errorf("publish.max_wait: %s, want a positive duration", p.MaxWait)
	case p.Interval < time.Second:
		return fmt.Errorf("publish.interval: %s, want at least 1s", p.Interval)
	case p.LeaseTTL < minLeaseTTL:
		return fmt.Errorf("publish.lease_ttl: %s, want at least %s (it is renewed every third, and checked with a quarter left)", p.LeaseTTL, minLeaseTTL)
	case p.LeaseWait < 0:
		return fmt.Errorf("publish.lease_wait: %s, want a positive duration", p.LeaseWait)
	case !*p.Noise && mode != ModeTest:
		return fmt.Errorf("publish.noise: false is allowed only with mode: %s (exact values are not differentially private)", ModeTest)
	case !(p.Budget.PerWindow > 0):
		return fmt.Errorf("publish.budget.per_window: %g, want a positive epsilon", p.Budget.PerWindow)
	case !(p.Budget.PerDay > 0):
		return fmt.Errorf("publish.budget.per_day: %g, want a positive epsilon", p.Budget.PerDay)
	}
	if err := CheckAllowances(p.Budgets()); err != nil {
		return err
	}
	if *p.Noise {
		// Checked here too, not only when publishing starts: a run with
		// publish.auto false must not accept a spec nothing can publish.
		if err := CheckNoise(spec); err != nil {
			return err
		}
	}
	return nil
}

// Budgets is the Budget of checked settings.
func (p *Settings) Budgets() Budget {
	return Budget{PerWindow: p.Budget.PerWindow, PerDay: p.Budget.PerDay, Day: p.Budget.Day, Week: p.Budget.Week}
}

// PublisherConfig is the Config of a Publisher under checked settings:
// the noise keyed by secret unless the test mode turned it off, the mode,
// and the secret's key id for the ledger.
func (p *Settings) PublisherConfig(spec cohorts.Spec, mode string, secret []byte, codeVersion string) (Config, error) {
	pc := Config{
		Spec:        spec,
		Budget:      p.Budgets(),
		CodeVersion: codeVersion,
		Mode:        mode,
		KeyID:       privacy.KeyID(secret),
	}
	if *p.Noise {
		n, err := privacy.NewNoiser(secret)
		if err != nil {
			return Config{}, err
		}
		if pc.Noise, err = NoiseFor(spec, n); err != nil {
			return Config{}, err
		}
	}
	return pc, nil
}
