package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cohortline/cohortline/cmd/internal/configfile"
	"github.com/cohortline/cohortline/cohorts"
	"github.com/cohortline/cohortline/sinks/clickhouse"
)

var brAttrs = []string{"--country", "BR", "--lang", "pt", "--age", "25-34", "--platform", "android"}

func writeConfig(t *testing.T, yaml string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "cohortline.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestLookupUsageErrors: bad flags and configs exit 2 with a message that
// names the problem, before any connection.
func TestLookupUsageErrors(t *testing.T) {
	t.Setenv("COHORTLINE_CLICKHOUSE", closedAddr(t))
	twoDims := writeConfig(t, "cohorts: {dimensions: [country, lang]}\n")
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no attributes", nil, "country is missing"},
		{"missing one", []string{"--country", "BR", "--lang", "pt", "--age", "25-34"}, "platform is missing: the cohort spec's dimensions are country, lang, age, platform"},
		{"empty value", []string{"--country", "BR", "--lang", "", "--age", "25-34", "--platform", "ios"}, "lang is missing"},
		{"lower-case country", []string{"--country", "br", "--lang", "pt", "--age", "25-34", "--platform", "ios"}, `country "br": want an assigned ISO 3166-1 alpha-2 code in upper case`},
		{"unassigned country", []string{"--country", "XK", "--lang", "pt", "--age", "25-34", "--platform", "ios"}, `country "XK"`},
		{"bad lang", []string{"--country", "BR", "--lang", "xx", "--age", "25-34", "--platform", "ios"}, `lang "xx": want an ISO 639-1 code`},
		{"minor", []string{"--country", "BR", "--lang", "pt", "--age", "13-17", "--platform", "ios"}, "minors, 13-17, are never a cohort"},
		{"bad platform", []string{"--country", "BR", "--lang", "pt", "--age", "25-34", "--platform", "linux"}, `platform "linux": want one of android, ios, web, desktop`},
		{"star", []string{"--country", "BR", "--lang", "pt", "--age", "*", "--platform", "ios"}, `age "*": give the person's value`},
		{"dimension not in the spec", append([]string{"--config", twoDims}, brAttrs...), "age is not a dimension of the cohort spec (its dimensions: country, lang)"},
		{"window not RFC 3339", append([]string{"--window", "yesterday"}, brAttrs...), `lookup: --window: "yesterday" is not a time: want 2026-11-01T10:00:00Z, 2026-11-01T10:00 (UTC) or 2026-11-01`},
		{"window not a window start", append([]string{"--window", "2026-11-01T10:30:00Z"}, brAttrs...), "lookup: --window: 2026-11-01T10:30:00Z does not start a window: windows of 24h start at 2026-11-01T00:00:00Z, 2026-11-02T00:00:00Z"},
		{"bad address", append([]string{"--clickhouse", "no-port"}, brAttrs...), `addr[0]: "no-port" is not host:port`},
		{"bad database", append([]string{"--published-database", "a b"}, brAttrs...), `published_database "a b"`},
		{"missing config", append([]string{"--config", filepath.Join(t.TempDir(), "nope.yaml")}, brAttrs...), "nope.yaml"},
		{"unknown config key", append([]string{"--config", writeConfig(t, "cohorts: {k: 50}\nclickhous: {}\n")}, brAttrs...), "clickhous (line 2): unknown key; did you mean clickhouse?"},
		{"bad spec", append([]string{"--config", writeConfig(t, "cohorts: {k: 1}\n")}, brAttrs...), "cohorts.k (line 1): 1, want at least 2"},
		{"unknown flag", append([]string{"--gender", "x"}, brAttrs...), "unknown flag: --gender"},
		{"argument", append([]string{"BR"}, brAttrs...), "unknown command"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, "", append([]string{"lookup"}, c.args...)...)
			if code != exitUsage || !strings.Contains(errOut, c.want) || out != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d and %q", code, out, errOut, exitUsage, c.want)
			}
		})
	}
}

// TestLookupValidFlagsConnect: flags that pass validation get as far as
// connecting (to nothing here: exit 1, naming the address); the config's
// spec and ClickHouse settings are used, and Kafka and the secret are not
// needed.
func TestLookupValidFlagsConnect(t *testing.T) {
	addr := closedAddr(t)
	t.Setenv("COHORTLINE_CLICKHOUSE", "127.0.0.1:1") // the config's address wins
	t.Setenv("COHORTLINE_CLICKHOUSE_PASSWORD", "s3cret-pw")
	quarter := writeConfig(t, "mode: production\ncohorts: {dimensions: [country, lang], window: 15m}\nclickhouse: {addr: ["+addr+"], username: targeter}\n")
	for _, args := range [][]string{
		{"--config", quarter, "--country", "BR", "--lang", "pt", "--window", "2026-11-01T10:45:00Z"},
		{"--config", quarter, "--country", "BR", "--lang", "pt", "--json"},
		{"--clickhouse", addr, "--user", "targeter", "--window", "2026-11-01T00:00:00+00:00"}, // the default spec: daily windows
		{"--clickhouse", addr, "--window", "2026-11-01T00:00"},                                // the form publish and backfill take
		{"--clickhouse", addr, "--window", "2026-11-01"},
	} {
		if args[0] == "--clickhouse" {
			args = append(args, brAttrs...)
		}
		code, out, errOut := runCLI(t, "", append([]string{"lookup"}, args...)...)
		if code != exitFailure || !strings.Contains(errOut, "connecting to ClickHouse at "+addr) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d connecting to %s", args, code, errOut, exitFailure, addr)
		}
		if strings.Contains(out+errOut, "s3cret-pw") {
			t.Errorf("%v: the password was printed", args)
		}
	}
}

func TestLookupRequestPrecedence(t *testing.T) {
	config := writeConfig(t, "clickhouse: {addr: [10.0.0.1:9000], published_database: pub, username: reader}\n")
	env := envOf(map[string]string{envClickHouse: "10.0.0.9:9000", configfile.EnvClickHousePassword: "pw"})
	for _, tc := range []struct {
		args                 []string
		addr, db, user, pass string
	}{
		{nil, "10.0.0.9:9000", "", "", "pw"}, // no config: the environment's address
		{[]string{"--config", config}, "10.0.0.1:9000", "pub", "reader", "pw"},
		{[]string{"--config", config, "--clickhouse", "10.0.0.2:9000", "--published-database", "other", "--user", "targeter"}, "10.0.0.2:9000", "other", "targeter", "pw"},
	} {
		cmd, f := lookupCommand()
		if err := cmd.ParseFlags(append(tc.args, brAttrs...)); err != nil {
			t.Fatal(err)
		}
		req, err := f.request(cmd, env)
		if err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		if got := req.ch; strings.Join(got.Addr, ",") != tc.addr || got.PublishedDatabase != tc.db || got.Username != tc.user || got.Password != tc.pass {
			t.Errorf("%v: ClickHouse config %+v, want %s %q %q", tc.args, got, tc.addr, tc.db, tc.user)
		}
		if req.finest.String() != "country=BR|lang=pt|age=25-34|platform=android" || !req.window.IsZero() {
			t.Errorf("%v: finest %s, window %s", tc.args, req.finest, req.window)
		}
	}
}

func TestLookupResultOutput(t *testing.T) {
	finest, _ := cohorts.ParseKey(cohorts.DefaultSpec(), "country=BR|lang=pt|age=25-34|platform=android")
	ws := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	row := clickhouse.EnrichmentRow{
		WindowStart: ws, WindowEnd: ws.Add(time.Hour), CohortID: 18410942520450877526,
		CohortKey: "country=BR|lang=pt|age=25-34|platform=*", Level: "platform", Users: 80,
		Features: []float32{20, 160.5, 3}, FeatureSet: 1, Release: "v1.1", PublishedAt: ws.Add(2 * time.Hour),
	}
	dict := []clickhouse.DictionaryEntry{{Index: 0, Name: "reach.kind.call", Unit: "users"}, {Index: 1, Name: "sum.kind.call", Unit: "events"}}
	res := newLookupResult(finest, 1, 4, row, dict)

	var text bytes.Buffer
	if err := res.writeText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"cohort_key  country=BR|lang=pt|age=25-34|platform=*\n",
		"cohort_id   18410942520450877526\n",
		"level       platform\n",
		"match       generalized 1 of 4 levels: country=BR|lang=pt|age=25-34|platform=android is not published\n",
		"window      2026-11-01T10:00:00Z to 2026-11-01T11:00:00Z\n",
		"users       80\n",
		"release     v1.1 (feature set 1), published 2026-11-01T12:00:00Z\n",
		"noised counts",
		"0      reach.kind.call  users   20     0.2500\n",
		"1      sum.kind.call    events  160.5  2.0063\n",
		"2      #2                       3      0.0375\n",
	} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text output lacks %q:\n%s", want, text.String())
		}
	}

	var js bytes.Buffer
	if err := res.writeJSON(&js); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(js.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got["cohort_id"] != "18410942520450877526" || got["chain_level"] != 1.0 || got["finest_key"] != finest.String() ||
		got["window_start"] != "2026-11-01T10:00:00Z" || got["users"] != 80.0 {
		t.Errorf("JSON output: %s", js.String())
	}
	features := got["features"].([]any)
	if f := features[1].(map[string]any); f["name"] != "sum.kind.call" || f["value"] != 160.5 || f["per_user"] != 160.5/80 {
		t.Errorf("JSON feature 1: %v", f)
	}
}

// TestLookupErrorBars: with the release's feature_noise, values print
// with ± sigma, and a value below its sigma is flagged.
func TestLookupErrorBars(t *testing.T) {
	finest, _ := cohorts.ParseKey(cohorts.DefaultSpec(), "country=BR|lang=pt|age=25-34|platform=android")
	ws := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	row := clickhouse.EnrichmentRow{
		WindowStart: ws, WindowEnd: ws.Add(24 * time.Hour), CohortID: finest.ID(), CohortKey: finest.String(), Users: 120,
		Features: []float32{96, 4}, FeatureSet: 2, Release: "spec1-abc-fs2", PublishedAt: ws.Add(25 * time.Hour),
	}
	dict := []clickhouse.DictionaryEntry{{Index: 0, Name: "reach.kind.message_sent", Unit: "users"}, {Index: 1, Name: "reach.category_group.food", Unit: "users"}}
	res := newLookupResult(finest, 0, 4, row, dict)
	res.addNoise([]clickhouse.FeatureNoise{{Index: 0, Sigma: 11.18}, {Index: 1, Sigma: 11.18}, {Index: clickhouse.UsersIndex, Sigma: 3.95}})
	var text bytes.Buffer
	if err := res.writeText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"users       120 ± 4.0\n", "reach.kind.message_sent    users  96     ± 11.2   0.8000    \n",
		"reach.category_group.food  users  4      ± 11.2   0.0333    !\n", "! 1 values are below one standard deviation"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text output lacks %q:\n%s", want, text.String())
		}
	}
	var js bytes.Buffer
	if err := res.writeJSON(&js); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(js.String(), `"sigma": 11.18`) || !strings.Contains(js.String(), `"noisy": true`) || !strings.Contains(js.String(), `"users_sigma": 3.95`) {
		t.Errorf("JSON lacks the error bars:\n%s", js.String())
	}
}
