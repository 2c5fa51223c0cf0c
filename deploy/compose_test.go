package deploy

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// composeFile is the part of a compose file the test reads.
type composeFile struct {
	Services map[string]struct {
		Image       string
		Build       any
		Command     []string
		Ports       []string
		Volumes     []string
		Environment map[string]string
		DependsOn   any `yaml:"depends_on"`
	}
	Volumes map[string]any
}

// interpolation is compose's ${NAME}, ${NAME:-default} and ${NAME:?error}.
var interpolation = regexp.MustCompile(`\$\{([A-Z_][A-Z0-9_]*)(?:(:-|:\?)([^}]*))?\}`)

// TestComposeFile checks deploy/docker-compose.yml as `docker compose
// config` would not: the official images at pinned versions, every
// published port on 127.0.0.1, bind mounts that exist, secrets only from
// the environment (deploy/.env) and required there, and cohortline's
// mounted config against the example.
func TestComposeFile(t *testing.T) {
	data, err := os.ReadFile("docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var f composeFile
	if err := yaml.Unmarshal(data, &f); err != nil { // merges the x-cohortline anchor
		t.Fatal(err)
	}
	wantImages := map[string]string{
		"kafka": "apache/kafka", "clickhouse": "clickhouse/clickhouse-server",
		"prometheus": "prom/prometheus", "grafana": "grafana/grafana",
		"migrate": "cohortline", "cohortline": "cohortline", "gen": "cohortline",
	}
	for name, repo := range wantImages {
		s, ok := f.Services[name]
		if !ok {
			t.Errorf("no service %s", name)
			continue
		}
		image := interpolation.ReplaceAllStringFunc(s.Image, func(m string) string { return interpolation.FindStringSubmatch(m)[3] })
		r, tag, _ := strings.Cut(image, ":")
		if r != repo || tag == "" || tag == "latest" {
			t.Errorf("service %s runs %q: want %s at a pinned version", name, s.Image, repo)
		}
		if repo == "cohortline" && s.Build == nil {
			t.Errorf("service %s: the cohortline image is built from the repository's Dockerfile", name)
		}
	}
	for name, s := range f.Services {
		for _, p := range s.Ports {
			if !strings.HasPrefix(p, "127.0.0.1:") {
				t.Errorf("service %s publishes %q: ports are bound to 127.0.0.1", name, p)
			}
		}
		for _, v := range s.Volumes {
			src, _, _ := strings.Cut(v, ":")
			if strings.HasPrefix(src, ".") {
				if _, err := os.Stat(filepath.FromSlash(src)); err != nil {
					t.Errorf("service %s mounts %s: %v", name, src, err)
				}
			} else if _, ok := f.Volumes[src]; !ok {
				t.Errorf("service %s mounts the volume %s, which volumes: does not declare", name, src)
			}
		}
		for key, value := range s.Environment {
			if !strings.Contains(key, "SECRET") && !strings.Contains(key, "PASSWORD") {
				continue
			}
			if m := interpolation.FindStringSubmatch(value); m == nil || m[0] != value || m[2] != ":?" {
				t.Errorf("service %s sets %s to %q: a secret comes from the environment, as ${NAME:?why} so that a missing one fails", name, key, value)
			}
		}
	}
	run := f.Services["cohortline"]
	if strings.Join(run.Command, " ") != "run --config /etc/cohortline/cohortline.yaml" ||
		!slices.Contains(run.Volumes, "./compose/cohortline.yaml:/etc/cohortline/cohortline.yaml:ro") {
		t.Errorf("cohortline runs %v with %v: want run --config of the mounted deploy/compose/cohortline.yaml", run.Command, run.Volumes)
	}
	if !strings.Contains(strings.Join(f.Services["migrate"].Command, " "), "migrate") {
		t.Errorf("the migrate service runs %v", f.Services["migrate"].Command)
	}
	config, err := os.ReadFile("compose/cohortline.yaml")
	if err != nil {
		t.Fatal(err)
	}
	checkConfig(t, "deploy/compose/cohortline.yaml", config)
	for _, addr := range []string{"kafka:9092", "clickhouse:9000", "0.0.0.0:9464"} {
		if !strings.Contains(string(config), addr) {
			t.Errorf("deploy/compose/cohortline.yaml does not name %s", addr)
		}
	}
	prom, err := os.ReadFile("compose/prometheus.yml")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(prom), `"cohortline:9464"`) || !strings.Contains(string(prom), "cohortline-alerts.yml") {
		t.Error("deploy/compose/prometheus.yml must scrape cohortline:9464 and load the alert rules")
	}
}

// TestDockerfile: a static binary on a small base, run as non-root.
func TestDockerfile(t *testing.T) {
	data, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	for _, want := range []string{
		"CGO_ENABLED=0 ", "FROM gcr.io/distroless/static-debian12:nonroot\n", "USER 65532:65532\n",
		`ENTRYPOINT ["/usr/local/bin/cohortline"]`, "EXPOSE 9464\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	if n := strings.Count(text, "\nFROM "); n != 2 {
		t.Errorf("Dockerfile has %d stages, want a build stage and the runtime one", n)
	}
}
