package deploy

import (
	"bytes"
	"os"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/cohortline/cohortline/cohorts"
	"github.com/cohortline/cohortline/sinks/clickhouse"
)

// keyPaths lists every key of a YAML mapping as its dotted path
// (kafka.brokers, clickhouse.retry.max_attempts), sorted.
func keyPaths(t *testing.T, doc []byte) []string {
	t.Helper()
	var root yaml.Node
	if err := yaml.Unmarshal(doc, &root); err != nil {
		t.Fatal(err)
	}
	var out []string
	var walk func(n *yaml.Node, prefix string)
	walk = func(n *yaml.Node, prefix string) {
		if n.Kind == yaml.DocumentNode {
			walk(n.Content[0], prefix)
			return
		}
		if n.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i < len(n.Content); i += 2 {
			path := prefix + n.Content[i].Value
			out = append(out, path)
			walk(n.Content[i+1], path+".")
		}
	}
	walk(&root, "")
	slices.Sort(out)
	return out
}

// checkConfig holds a deployment's cohortline config to the example's:
// the same keys (a key only one has is a typo, or a setting the example
// must document), its cohorts section a valid spec and its clickhouse
// section a valid sinks/clickhouse.Config, both decoded strictly by
// cohortline's own code.
func checkConfig(t *testing.T, name string, doc []byte) {
	t.Helper()
	example, err := os.ReadFile("cohortline.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want, got := keyPaths(t, example), keyPaths(t, doc)
	for _, k := range got {
		if !slices.Contains(want, k) {
			t.Errorf("%s has key %s, which deploy/cohortline.example.yaml lacks", name, k)
		}
	}
	for _, k := range want {
		if !slices.Contains(got, k) {
			t.Errorf("%s lacks key %s of deploy/cohortline.example.yaml", name, k)
		}
	}
	var f struct {
		Cohorts    yaml.Node `yaml:"cohorts"`
		ClickHouse yaml.Node `yaml:"clickhouse"`
	}
	if err := yaml.Unmarshal(doc, &f); err != nil {
		t.Fatal(err)
	}
	spec, err := yaml.Marshal(&f.Cohorts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cohorts.ParseSpec(spec); err != nil {
		t.Errorf("%s: cohorts: %v", name, err)
	}
	section, err := yaml.Marshal(&f.ClickHouse)
	if err != nil {
		t.Fatal(err)
	}
	var ch clickhouse.Config
	dec := yaml.NewDecoder(bytes.NewReader(section))
	dec.KnownFields(true)
	if err := dec.Decode(&ch); err != nil {
		t.Errorf("%s: clickhouse: %v", name, err)
	} else if err := ch.Validate(); err != nil {
		t.Errorf("%s: clickhouse: %v", name, err)
	}
	if ch.Secret.Password != "" || ch.Password != "" || strings.Contains(string(doc), "secret:") {
		t.Errorf("%s holds a password or secret: they come from the environment", name)
	}
}
