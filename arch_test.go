// The layering that ARCHITECTURE.md draws, checked: every package's
// imports, direct and indirect (tests aside), against the rules below. A
// new package needs a rule, or the test names it.
package cohortline_test

import (
	"bufio"
	"bytes"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/cohortline/cohortline"

// rule says which packages of the module a package may depend on. A
// package matches the rule of the longest prefix that names it; paths are
// relative to the module root.
type rule struct {
	pkg     string   // a folder: it and every package under it
	allowed []string // folders it may depend on, besides its own
	denied  []string // folders it may not depend on (when allowed is nil)
}

var layers = []rule{
	// Contracts: the event, reasons, Arrow schemas, DDL. No I/O, nothing of
	// ours below them.
	{pkg: "schemas", allowed: []string{}},
	// TLS settings and secret sources shared by every connection: nothing
	// of ours.
	{pkg: "netsec", allowed: []string{}},
	// Cohorts, aggregates and privacy: no Kafka, no ClickHouse.
	{pkg: "cohorts", allowed: []string{"schemas"}},
	// The hand-written Kafka Fetch client: bytes on the wire only.
	{pkg: "pipeline/internal/kafkawire", allowed: []string{}},
	{pkg: "pipeline/archive", allowed: []string{"schemas"}},
	{pkg: "pipeline", denied: []string{"sinks", "cmd", "deploy"}},
	// Sinks satisfy pipeline.Sink without importing pipeline (its rows are
	// schemas'), and cohorts/publish's Store on the publisher's own types.
	{pkg: "sinks", allowed: []string{"schemas", "cohorts", "netsec"}},
	// Test and deploy helpers use nothing of the product.
	{pkg: "deploy", allowed: []string{}},
	// Wiring: may use everything, and nothing else may use it.
	{pkg: "cmd", denied: []string{"deploy"}},
}

// wiringOnly is what no package outside cmd/ may depend on.
var wiringOnly = []string{"cmd"}

// testOnly reports whether pkg is for tests only (cohorts/cohortstest,
// pipeline/pipelinetest): a package that production code must not import,
// which moduleDeps, reading the packages without their tests, would show.
func testOnly(pkg string) bool { return strings.HasSuffix(pkg[strings.LastIndex(pkg, "/")+1:], "test") }

func under(pkg, folder string) bool { return pkg == folder || strings.HasPrefix(pkg, folder+"/") }

func ruleOf(pkg string) (rule, bool) {
	best, found := rule{}, false
	for _, r := range layers {
		if under(pkg, r.pkg) && (!found || len(r.pkg) > len(best.pkg)) {
			best, found = r, true
		}
	}
	return best, found
}

// violations lists every forbidden edge of deps (package -> the module's
// packages it depends on, paths relative to the module), sorted.
func violations(deps map[string][]string) []string {
	var out []string
	for pkg, ds := range deps {
		r, ok := ruleOf(pkg)
		if !ok {
			out = append(out, pkg+": no layer rule names it (add it to layers in arch_test.go)")
			continue
		}
		for _, d := range ds {
			if testOnly(d) && !testOnly(pkg) {
				out = append(out, pkg+" -> "+d+" (for tests only)")
				continue
			}
			if under(d, r.pkg) {
				continue // its own folder: pipeline/backfill may use pipeline
			}
			if bad(r, pkg, d) {
				out = append(out, pkg+" -> "+d)
			}
		}
	}
	slices.Sort(out)
	return out
}

func bad(r rule, pkg, dep string) bool {
	if !under(pkg, "cmd") {
		for _, w := range wiringOnly {
			if under(dep, w) {
				return true
			}
		}
	}
	if r.allowed != nil {
		for _, a := range r.allowed {
			if under(dep, a) {
				return false
			}
		}
		return true
	}
	for _, d := range r.denied {
		if under(dep, d) {
			return true
		}
	}
	return false
}

// moduleDeps runs go list and returns, for each package of the module, the
// module's packages it depends on (directly or not; tests excluded).
func moduleDeps(t *testing.T) map[string][]string {
	t.Helper()
	cmd := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Deps}} {{.}}{{end}}`, "./...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	deps := map[string][]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		rel := func(p string) (string, bool) {
			if p == module {
				return "", true
			}
			return strings.CutPrefix(p, module+"/")
		}
		pkg, ok := rel(f[0])
		if !ok || pkg == "" { // "": this test's own folder, tests only
			continue
		}
		deps[pkg] = []string{}
		for _, d := range f[1:] {
			if r, ok := rel(d); ok {
				deps[pkg] = append(deps[pkg], r)
			}
		}
	}
	if len(deps) < 5 {
		t.Fatalf("go list found %d packages of %s: not run in the module?", len(deps), module)
	}
	return deps
}

func TestLayers(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	deps := moduleDeps(t)
	t.Logf("%d packages of the module checked", len(deps))
	for _, v := range violations(deps) {
		t.Errorf("forbidden dependency: %s", v)
	}
}

// TestLayerRules shows the checker can fail: every rule on a made-up graph
// that breaks it, beside edges that keep it.
func TestLayerRules(t *testing.T) {
	graph := map[string][]string{
		"schemas":                     {"cohorts"},
		"schemas/ddl":                 {"schemas"},
		"cohorts":                     {"schemas", "pipeline"},
		"cohorts/publish":             {"cohorts", "cohorts/privacy", "schemas"},
		"cohorts/privacy":             {"cohorts", "sinks/clickhouse"},
		"sinks/clickhouse":            {"schemas", "pipeline"},
		"pipeline":                    {"cohorts", "schemas", "pipeline/internal/kafkawire", "pipeline/archive", "pipeline/pipelinetest"},
		"pipeline/pipelinetest":       {"schemas", "schemas/synth"},
		"cohorts/cohortstest":         {"schemas"},
		"pipeline/backfill":           {"pipeline", "cohorts", "cmd/cohortline"},
		"pipeline/internal/kafkawire": {"schemas"},
		"pipeline/archive":            {"schemas"},
		"cmd/cohortline":              {"pipeline", "sinks/clickhouse", "cohorts", "schemas", "pipeline/backfill"},
		"tools":                       {},
	}
	want := []string{
		"cohorts -> pipeline",
		"cohorts/privacy -> sinks/clickhouse",
		"pipeline -> pipeline/pipelinetest (for tests only)",
		"pipeline/backfill -> cmd/cohortline",
		"pipeline/internal/kafkawire -> schemas",
		"schemas -> cohorts",
		"sinks/clickhouse -> pipeline",
		"tools: no layer rule names it (add it to layers in arch_test.go)",
	}
	if got := violations(graph); !slices.Equal(got, want) {
		t.Errorf("violations:\n got %q\nwant %q", got, want)
	}
}
