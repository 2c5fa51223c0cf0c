package deploy

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"gopkg.in/yaml.v3"

	"github.com/cohortline/cohortline/pipeline"
)

// exportedMetrics are the names cohortline run serves on /metrics: the
// pipeline's collector (its descriptors), the Go runtime and process
// collectors it registers, and the sink's counters that cmd/cohortline
// registers (found in its source: a test cannot import package main),
// plus Prometheus's own up.
func exportedMetrics(t *testing.T) map[string]bool {
	t.Helper()
	names := map[string]bool{"up": true}
	descs := make(chan *prometheus.Desc, 64)
	pipeline.NewMetrics(nil).Describe(descs) // reads no consumer
	close(descs)
	fqName := regexp.MustCompile(`fqName: "([^"]+)"`)
	for d := range descs {
		names[fqName.FindStringSubmatch(d.String())[1]] = true
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		names[f.GetName()] = true
	}
	literal := regexp.MustCompile(`Name:\s+"(cohortline_[a-z0-9_]+)"`)
	err = filepath.WalkDir("../cmd", func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		src, err := os.ReadFile(path)
		for _, m := range literal.FindAllStringSubmatch(string(src), -1) {
			names[m[1]] = true
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if !names["cohortline_sink_retries_total"] {
		t.Fatal("found no cohortline_sink_* metric in cmd/: has its registration moved?")
	}
	return names
}

// metricName finds the metric names a PromQL expression reads.
var metricName = regexp.MustCompile(`\b(?:cohortline|process|go)_[a-z0-9_]+\b|\bup\{`)

// checkNames fails for a name expr reads that cohortline does not export
// (a histogram's _bucket, _sum and _count go by the histogram's name).
func checkNames(t *testing.T, where, expr string, exported map[string]bool) []string {
	t.Helper()
	var used []string
	for _, name := range metricName.FindAllString(expr, -1) {
		name = strings.TrimSuffix(name, "{")
		used = append(used, name)
		base := name
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			base = strings.TrimSuffix(base, suffix)
		}
		if !exported[name] && !exported[base] {
			t.Errorf("%s reads %s, which cohortline does not export: %s", where, name, expr)
		}
	}
	return used
}

// TestGrafanaDashboard: valid JSON, every panel on the data source
// variable, every query of an exported metric, and a panel for each thing
// an operator watches.
func TestGrafanaDashboard(t *testing.T) {
	data, err := os.ReadFile("grafana/cohortline.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		UID    string
		Panels []struct {
			ID         int
			Type       string
			Title      string
			Datasource struct{ UID string }
			Targets    []struct{ RefID, Expr string }
			Options    struct{ Content string }
		}
	}
	if err := json.Unmarshal(data, &dash); err != nil {
		t.Fatal(err)
	}
	exported := exportedMetrics(t)
	var used []string
	ids := map[int]bool{}
	for _, p := range dash.Panels {
		if ids[p.ID] {
			t.Errorf("panel %q repeats id %d", p.Title, p.ID)
		}
		ids[p.ID] = true
		if p.Type == "text" {
			used = append(used, "text:"+p.Title)
			continue
		}
		if p.Datasource.UID != "${datasource}" || len(p.Targets) == 0 {
			t.Errorf("panel %q: data source %q and %d queries; want ${datasource} and a query", p.Title, p.Datasource.UID, len(p.Targets))
		}
		for _, q := range p.Targets {
			used = append(used, checkNames(t, "panel "+p.Title, q.Expr, exported)...)
		}
	}
	for _, want := range []string{
		"cohortline_lag_messages", "cohortline_events_total", "cohortline_watermark_seconds",
		"cohortline_window_flush_seconds_bucket", "cohortline_dead_letters_total", "cohortline_window_state_mapped_bytes",
		"text:Privacy budget left", // no metric of it exists: the panel says so
	} {
		if !slices.Contains(used, want) {
			t.Errorf("the dashboard has no panel of %s", want)
		}
	}
}

// TestAlertRules: every rule reads exported metrics, the alerts an
// operator needs exist, and promtool (Debian's prometheus package, which
// make test-deps installs) accepts the rules and passes their unit tests.
func TestAlertRules(t *testing.T) {
	data, err := os.ReadFile("prometheus/cohortline-alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	var rules struct {
		Groups []struct {
			Rules []struct{ Alert, Expr string }
		}
	}
	if err := yaml.Unmarshal(data, &rules); err != nil {
		t.Fatal(err)
	}
	exported := exportedMetrics(t)
	var alerts []string
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			alerts = append(alerts, r.Alert)
			checkNames(t, "alert "+r.Alert, r.Expr, exported)
		}
	}
	for _, want := range []string{"CohortlineLagGrowing", "CohortlineWatermarkStuck", "CohortlineDeadLetterRate", "CohortlineWorkerRestarts", "CohortlineNotReady"} {
		if !slices.Contains(alerts, want) {
			t.Errorf("no alert %s", want)
		}
	}

	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("promtool not found: make test-deps installs Debian's prometheus package, which has it")
		}
		t.Skip("promtool not found (apt-get install prometheus, or make test-deps); the rules' promtool checks are skipped")
	}
	for _, args := range [][]string{{"check", "rules", "cohortline-alerts.yml"}, {"test", "rules", "cohortline-alerts.test.yml"}} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = "prometheus"
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}
