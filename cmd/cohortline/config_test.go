package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func envOf(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

const testSecret = "0123456789abcdef0123456789abcdef"

// The example config in deploy/ must load as it is (with a secret set).
func TestExampleConfigLoads(t *testing.T) {
	cfg, err := loadConfig(filepath.Join("..", "..", "deploy", "cohortline.example.yaml"), envOf(map[string]string{envSecret: testSecret}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.file.Kafka.Topic != "activity" || cfg.spec.K != 50 || cfg.file.ClickHouse.Database != "cohortline" {
		t.Errorf("example config loaded as %+v / spec %+v", cfg.file, cfg.spec)
	}
}

func TestConfigErrorsNameTheKey(t *testing.T) {
	const base = "kafka: {brokers: [127.0.0.1:1], topic: activity}\n"
	cases := []struct {
		name, yaml string
		env        map[string]string
		want       string
	}{
		{"unknown top-level key", base + "kafkaa: {}\n", nil, "field kafkaa not found"},
		{"unknown nested key", "kafka: {brokers: [a:1], topic: t, idle: 1s}\n", nil, "field idle not found"},
		{"missing topic", "kafka: {brokers: [a:1]}\nmode: development\n", nil, "kafka.topic: required"},
		{"dead letters into the input", "kafka: {brokers: [a:1], topic: t, dead_letter_topic: t}\nmode: development\n", nil, "kafka.dead_letter_topic"},
		{"bad spec", base + "mode: development\ncohorts: {k: 1}\n", nil, "cohorts:"},
		{"bad mode", base + "mode: staging\n", nil, `mode: "staging"`},
		{"production without secret", base, nil, "COHORTLINE_SECRET is not set"},
		{"short secret", base, map[string]string{envSecret: "short"}, "want at least 32"},
		{"empty file", "", nil, "empty file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := parseConfig([]byte(c.yaml), envOf(c.env))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

func TestDevelopmentModeUsesThePublicSecretOnlyWhenUnset(t *testing.T) {
	const yaml = "mode: development\nkafka: {brokers: [a:1], topic: t}\n"
	cfg, err := parseConfig([]byte(yaml), envOf(nil))
	if err != nil || string(cfg.secret) != developmentSecret {
		t.Fatalf("development without secret: %v, secret %q", err, cfg.secret)
	}
	cfg, err = parseConfig([]byte(yaml), envOf(map[string]string{envSecret: testSecret, envClickHousePassword: "pw"}))
	if err != nil || string(cfg.secret) != testSecret || cfg.file.ClickHouse.Password != "pw" {
		t.Fatalf("environment must override: %v, %+v", err, cfg)
	}
}

func TestRunRequiresConfig(t *testing.T) {
	if code, _, errOut := runCLI(t, "", "run"); code != exitUsage || !strings.Contains(errOut, "--config") {
		t.Errorf("run without --config: exit %d, stderr %q", code, errOut)
	}
	missing := filepath.Join(t.TempDir(), "nope.yaml")
	if code, _, errOut := runCLI(t, "", "run", "--config", missing); code != exitUsage || !strings.Contains(errOut, "nope.yaml") {
		t.Errorf("run with a missing file: exit %d, stderr %q", code, errOut)
	}
	_ = os.Remove(missing)
}
