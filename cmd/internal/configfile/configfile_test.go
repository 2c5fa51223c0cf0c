package configfile

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cohortline/cohortline/cohorts/privacy"
	"github.com/cohortline/cohortline/cohorts/publish"
)

func envOf(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

const testSecret = "0123456789abcdef0123456789abcdef"

// The example config in deploy/ must load as it is (with a secret set).
func TestExampleConfigLoads(t *testing.T) {
	cfg, err := Load(filepath.Join("..", "..", "..", "deploy", "cohortline.example.yaml"), envOf(map[string]string{EnvSecret: testSecret}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.File.Kafka.Topic != "activity" || cfg.Spec.K != 50 || cfg.File.ClickHouse.Database != "cohortline" {
		t.Errorf("example config loaded as %+v / spec %+v", cfg.File, cfg.Spec)
	}
}

// TestPublishConfig: defaults follow the spec's epsilon and window, and
// the test mode may turn noise off.
func TestPublishConfig(t *testing.T) {
	const base = "kafka: {brokers: [127.0.0.1:1], topic: activity}\n"
	cfg, err := Parse([]byte(base+"mode: development\ncohorts: {window: 30m, feature_set: 1, privacy: {epsilon: 2, delta: 0.001}}\n"), envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	p := cfg.File.Publish
	if !*p.Auto || !*p.Noise || p.MaxWait != publish.DefaultMaxWait || p.Budget.PerWindow != 6 || p.Budget.PerDay != 2*2*48 ||
		p.LeaseTTL != 2*time.Minute || p.LeaseWait != 2*time.Minute {
		t.Errorf("publish defaults %+v (auto %t, noise %t)", p, *p.Auto, *p.Noise)
	}
	pc, err := cfg.Publisher()
	if err != nil || !pc.Noise.Enabled() || pc.Mode != ModeDevelopment || pc.KeyID != privacy.KeyID([]byte(DevelopmentSecret)) {
		t.Errorf("publisher config: %v, noise %t, mode %q, key id %q", err, pc.Noise.Enabled(), pc.Mode, pc.KeyID)
	}
	cfg, err = Parse([]byte(base+"mode: test\npublish: {noise: false}\n"), envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if pc, err := cfg.Publisher(); err != nil || pc.Noise.Enabled() || pc.Mode != ModeTest || pc.KeyID == "" {
		t.Errorf("test mode without noise: %v, noise %t, mode %q, key id %q", err, pc.Noise.Enabled(), pc.Mode, pc.KeyID)
	}
}

func TestConfigErrorsNameTheKey(t *testing.T) {
	const base = "kafka: {brokers: [127.0.0.1:1], topic: activity}\n"
	cases := []struct {
		name, yaml string
		env        map[string]string
		want       string
	}{
		{"unknown top-level key", base + "kafkaa: {}\n", nil, "kafkaa (line 2): unknown key; did you mean kafka?"},
		{"unknown nested key", "kafka: {brokers: [a:1], topic: t, idle: 1s}\n", nil, "kafka.idle (line 1): unknown key (known here: brokers,"},
		{"missing topic", "kafka: {brokers: [a:1]}\nmode: development\n", nil, "kafka.topic: required"},
		{"flushes in flight", "mode: development\nkafka:\n  brokers: [a:1]\n  topic: t\n  max_in_flight_flushes: -1\n", nil, "kafka.max_in_flight_flushes (line 5): -1, want 1"},
		{"too many flushes in flight", "mode: development\nkafka:\n  brokers: [a:1]\n  topic: t\n  max_in_flight_flushes: 64\n", nil,
			"kafka.max_in_flight_flushes (line 5): 64, want 1 (synchronous flushes) to 16"},
		{"dead letters into the input", "kafka: {brokers: [a:1], topic: t, dead_letter_topic: t}\nmode: development\n", nil, "kafka.dead_letter_topic"},
		{"bad spec", base + "mode: development\ncohorts: {k: 1}\n", nil, "cohorts.k (line 3): 1, want at least 2"},
		{"bad mode", base + "mode: staging\n", nil, `mode (line 2): "staging" is none of`},
		{"production without secret", base, nil, "COHORTLINE_SECRET is not set"},
		{"short secret", base, map[string]string{EnvSecret: "short"}, "want at least 32"},
		{"no noise outside test mode", base + "mode: development\npublish: {noise: false}\n", nil, "publish.noise (line 3): false is allowed only with mode: test"},
		{"publish interval", base + "mode: development\npublish: {interval: 10ms}\n", nil, "publish.interval (line 3): 10ms, want at least 1s"},
		{"budget below a release", base + "mode: development\npublish: {budget: {per_window: -1}}\n", nil, "publish.budget.per_window (line 3): -1"},
		{"unknown publish key", base + "mode: development\npublish: {noisy: false}\n", nil, "publish.noisy (line 3): unknown key; did you mean noise?"},
		{"lease ttl", base + "mode: development\npublish: {lease_ttl: 2s}\n", nil, "publish.lease_ttl (line 3): 2s, want at least 10s"},
		{"lease wait", base + "mode: development\npublish: {lease_wait: -1s}\n", nil, "publish.lease_wait (line 3): -1s"},
		{"delta below the thresholds'", base + "mode: development\ncohorts: {feature_set: 1, privacy: {epsilon: 1}}\n", nil, "cohorts.privacy.delta: privacy: delta 1e-06 is below 0.0195"},
		{"empty file", "", nil, "empty file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.yaml), envOf(c.env))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

func TestDevelopmentModeUsesThePublicSecretOnlyWhenUnset(t *testing.T) {
	const yaml = "mode: development\nkafka: {brokers: [a:1], topic: t}\n"
	cfg, err := Parse([]byte(yaml), envOf(nil))
	if err != nil || string(cfg.Secret) != DevelopmentSecret {
		t.Fatalf("development without secret: %v, secret %q", err, cfg.Secret)
	}
	cfg, err = Parse([]byte(yaml), envOf(map[string]string{EnvSecret: testSecret, EnvClickHousePassword: "pw"}))
	if err != nil || string(cfg.Secret) != testSecret || cfg.File.ClickHouse.Password != "pw" {
		t.Fatalf("environment must override: %v, %+v", err, cfg)
	}
}

// TestConfigErrorsGiveTheFilesLine: a mistake anywhere in the example
// config is reported with the key's full path and its line in the file,
// not in the section yaml.v3 decoded on its own, and without Go types.
func TestConfigErrorsGiveTheFilesLine(t *testing.T) {
	example, err := os.ReadFile(filepath.Join("..", "..", "..", "deploy", "cohortline.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(example), "\n")
	lineOf := func(prefix string) int {
		for i, l := range lines {
			if strings.HasPrefix(l, prefix) {
				return i + 1
			}
		}
		t.Fatalf("no line starts with %q in the example config", prefix)
		return 0
	}
	env := envOf(map[string]string{EnvSecret: testSecret})
	for _, c := range []struct {
		name, line, replace, want string
	}{
		{"typo in kafka", "  max_out_of_order:", "  max_out_of_ordr:", "kafka.max_out_of_ordr (line %d): unknown key; did you mean max_out_of_order?"},
		{"duration without a unit", "  max_out_of_order:", "  max_out_of_order: 5", `kafka.max_out_of_order (line %d): "5" is not a duration: write it with a unit`},
		{"typo deep in the cohorts section", "    epsilon:", "    epsilom: 4", "cohorts.privacy.epsilom (line %d): unknown key; did you mean epsilon?"},
		{"bad value in the cohorts section", "  k:", "  k: 1", "cohorts.k (line %d): 1, want at least 2"},
		{"word for a number", "  k:", "  k: fifty", `cohorts.k (line %d): "fifty" is not a whole number`},
		{"not a bool", "  noise:", "  noise: yes please", `publish.noise (line %d): "yes please" is not true or false`},
		{"list item", "  addr:", "  addr: [127.0.0.1:19000, nohost]", `clickhouse.addr[1] (line %d): "nohost" is not host:port`},
		{"repeated key", "  topic:", "  topic: a\n  topic: b", "kafka.topic (line %d): repeated key"},
	} {
		t.Run(c.name, func(t *testing.T) {
			n := lineOf(c.line)
			edited := append([]string(nil), lines...)
			edited[n-1] = c.replace
			if c.name == "repeated key" {
				n++ // the second one is the mistake
			}
			_, err := Parse([]byte(strings.Join(edited, "\n")), env)
			want := fmt.Sprintf(c.want, n)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("error %v\nwant one containing %q", err, want)
			}
			for _, goWords := range []string{"pipeline.Config", "time.Duration", "!!int", "not found in type"} {
				if strings.Contains(err.Error(), goWords) {
					t.Errorf("error %q speaks Go (%s)", err, goWords)
				}
			}
		})
	}
}

// TestReadNamesTheFile: every reader of the file (Load, LoadSpec,
// KafkaDialer, and the commands that take one section) goes through Read,
// whose errors say what failed and which file; a value's error from Load
// names the file, the key and its line too.
func TestReadNamesTheFile(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.yaml")
	if _, _, err := Read(missing); err == nil || !strings.HasPrefix(err.Error(), "reading config: ") || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing file: %v", err)
	}
	badKey := filepath.Join(dir, "bad-key.yaml")
	writeFile(t, badKey, "kafka:\n  topik: x\n")
	for name, read := range map[string]func() error{
		"Read":        func() error { _, _, err := Read(badKey); return err },
		"Load":        func() error { _, err := Load(badKey, envOf(nil)); return err },
		"LoadSpec":    func() error { _, _, err := LoadSpec(badKey); return err },
		"KafkaDialer": func() error { _, err := KafkaDialer(badKey, envOf(nil)); return err },
	} {
		want := "config " + badKey + ": kafka.topik (line 2): unknown key; did you mean topic?"
		if err := read(); err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%s: %v, want %q", name, err, want)
		}
	}
	badValue := filepath.Join(dir, "bad-value.yaml")
	writeFile(t, badValue, "kafka:\n  topic: x\nmode: weird\n")
	want := "config " + badValue + `: mode (line 3): "weird" is none of production, development, test`
	if _, err := Load(badValue, envOf(map[string]string{EnvSecret: testSecret})); err == nil || err.Error() != want {
		t.Errorf("Load: %v, want %q", err, want)
	}
	f, lines, err := Read(badValue)
	if err != nil || f.Kafka.Topic != "x" || len(lines) == 0 {
		t.Errorf("Read of a file with a bad value (not checked by Read): %+v, %d lines, %v", f.Kafka, len(lines), err)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
