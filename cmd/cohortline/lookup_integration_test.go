package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cohortline/cohortline/cmd/internal/configfile"
	"github.com/cohortline/cohortline/cohorts"
	"github.com/cohortline/cohortline/deploy/devenv"
	"github.com/cohortline/cohortline/sinks/clickhouse"
)

// publishedFixture migrates a test deployment whose published database is
// the one the dev targeter account may read, and writes published rows and
// the v1 dictionary into it as the default user. It returns the address.
func publishedFixture(t *testing.T, rows []clickhouse.EnrichmentRow) string {
	t.Helper()
	addr := devenv.ClickHouse(t)
	db, pub := fmt.Sprintf("it_lookup_%d", time.Now().UnixNano()%1e9), devenv.TargeterDatabaseCLI
	dropDatabases(t, addr, pub) // left over by an interrupted run
	t.Cleanup(func() { dropDatabases(t, addr, db, pub) })
	if code, _, errOut := runCLI(t, "", "migrate", "--clickhouse", addr, "--database", db, "--published-database", pub); code != exitOK {
		t.Fatalf("migrate: exit %d: %s", code, errOut)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	admin, err := clickhouse.Open(ctx, clickhouse.Config{Addr: []string{addr}, Database: db, PublishedDatabase: pub})
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	seen := map[string]bool{} // a published_releases row per release, as publish writes before the rows
	for _, r := range rows {
		if key := fmt.Sprint(r.WindowStart, r.Release, r.PublishedAt); !seen[key] {
			seen[key] = true
			pr := clickhouse.PublishedRelease{WindowStart: r.WindowStart, WindowEnd: r.WindowEnd, Release: r.Release, PublishedAt: r.PublishedAt, Mode: configfile.ModeProduction}
			if err := admin.AppendPublishedRelease(ctx, pr); err != nil {
				t.Fatal(err)
			}
		}
	}
	// As publish writes them: the rows, then the lookup table lookup reads.
	if err := admin.WriteEnrichment(ctx, rows); err != nil {
		t.Fatal(err)
	}
	if err := admin.WriteLatest(ctx, rows); err != nil {
		t.Fatal(err)
	}
	var dict []clickhouse.DictionaryEntry
	for _, f := range cohorts.FeatureSetV1() {
		dict = append(dict, clickhouse.DictionaryEntry{FeatureSet: cohorts.FeatureSetVersion, Index: uint32(f.Index), Name: f.Name, Description: f.Description, Unit: f.Unit})
	}
	if err := admin.WriteFeatureDictionary(ctx, dict); err != nil {
		t.Fatal(err)
	}
	return addr
}

// publishedRow is a v1 row of key in the hour starting at ws; feature i
// is users+i.
func publishedRow(t *testing.T, key string, ws time.Time, users uint64, published time.Time) clickhouse.EnrichmentRow {
	t.Helper()
	k, err := cohorts.ParseKey(cohorts.DefaultSpec(), key)
	if err != nil {
		t.Fatal(err)
	}
	features := make([]float32, cohorts.NumFeaturesV1())
	for i := range features {
		features[i] = float32(users) + float32(i)
	}
	return clickhouse.EnrichmentRow{
		WindowStart: ws, WindowEnd: ws.Add(time.Hour), CohortID: k.ID(), CohortKey: key, Level: k.Level().String(),
		Users: users, Features: features, FeatureSet: cohorts.FeatureSetVersion, Release: "spec1.fs1", PublishedAt: published,
	}
}

// TestLookupOnRealServer: as the targeter's read-only account, lookup
// finds the most specific published cohort of the attributes, falls back
// along the generalization chain, honours --window and a republish, and
// fails clearly when nothing covers the attributes.
func TestLookupOnRealServer(t *testing.T) {
	w0 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	w1 := w0.Add(time.Hour)
	const (
		finest = "country=BR|lang=pt|age=25-34|platform=android"
		noPlat = "country=BR|lang=pt|age=25-34|platform=*"
		noAge  = "country=BR|lang=pt|age=*|platform=*"
		top    = "country=*|lang=*|age=*|platform=*"
	)
	addr := publishedFixture(t, []clickhouse.EnrichmentRow{
		publishedRow(t, finest, w0, 60, w1.Add(5*time.Minute)),
		publishedRow(t, finest, w0, 61, w1.Add(time.Hour)), // republish of w0: the newest wins
		publishedRow(t, noPlat, w0, 90, w1.Add(5*time.Minute)),
		publishedRow(t, noPlat, w1, 95, w1.Add(65*time.Minute)),
		publishedRow(t, noAge, w1, 150, w1.Add(65*time.Minute)),
		publishedRow(t, top, w0, 5000, w1.Add(5*time.Minute)),
	})
	t.Setenv("COHORTLINE_CLICKHOUSE_PASSWORD", devenv.TargeterPassword())
	hourly := writeConfig(t, "cohorts: {window: 1h, feature_set: 1}\n") // the rows above are of hourly windows
	asTargeter := []string{"lookup", "--config", hourly, "--clickhouse", addr, "--published-database", devenv.TargeterDatabaseCLI, "--user", devenv.TargeterUser}
	attrs := func(country, lang, age, platform string) []string {
		return []string{"--country", country, "--lang", lang, "--age", age, "--platform", platform}
	}

	for _, tc := range []struct {
		name   string
		args   []string
		key    string
		window time.Time
		users  uint64
		level  int
	}{
		{"finest, its newest publish", attrs("BR", "pt", "25-34", "android"), finest, w0, 61, 0},
		{"finest absent: one level up, newest window", attrs("BR", "pt", "25-34", "ios"), noPlat, w1, 95, 1},
		{"window w0", append(attrs("BR", "pt", "25-34", "ios"), "--window", w0.Format(time.RFC3339)), noPlat, w0, 90, 1},
		{"window w1: finest not in it", append(attrs("BR", "pt", "25-34", "android"), "--window", w1.Format(time.RFC3339)), noPlat, w1, 95, 1},
		{"two levels up", append(attrs("BR", "pt", "35-44", "web"), "--window", w1.Format(time.RFC3339)), noAge, w1, 150, 2},
		{"only the top", attrs("US", "en", "18-24", "ios"), top, w0, 5000, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, "", slices.Concat(asTargeter, []string{"--json"}, tc.args)...)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			var res lookupResult
			if err := json.Unmarshal([]byte(out), &res); err != nil {
				t.Fatalf("%v in %s", err, out)
			}
			k, _ := cohorts.ParseKey(cohorts.DefaultSpec(), tc.key)
			if res.CohortKey != tc.key || res.CohortID != fmt.Sprint(k.ID()) || !res.WindowStart.Equal(tc.window) ||
				res.Users != tc.users || res.ChainLevel != tc.level || res.Level != k.Level().String() {
				t.Errorf("got %s %s window %s users %d level %d %q; want %s window %s users %d level %d",
					res.CohortKey, res.CohortID, res.WindowStart, res.Users, res.ChainLevel, res.Level, tc.key, tc.window, tc.users, tc.level)
			}
			v1 := cohorts.FeatureSetV1()
			if len(res.Features) != len(v1) || res.Features[0].Name != v1[0].Name || res.Features[0].Unit != v1[0].Unit ||
				res.Features[1].Value != float32(tc.users)+1 || res.Features[0].PerUser != 1 {
				t.Errorf("features %+v …, want v1's names and values users+i", res.Features[:2])
			}
		})
	}

	t.Run("text", func(t *testing.T) {
		code, out, errOut := runCLI(t, "", slices.Concat(asTargeter, attrs("BR", "pt", "25-34", "ios"))...)
		if code != exitOK || !strings.Contains(out, "cohort_key  "+noPlat+"\n") ||
			!strings.Contains(out, "match       generalized 1 of 4 levels: country=BR|lang=pt|age=25-34|platform=ios is not published\n") ||
			!strings.Contains(out, "reach.kind.message_sent") {
			t.Errorf("exit %d, stdout:\n%s\nstderr: %s", code, out, errOut)
		}
	})

	t.Run("none", func(t *testing.T) {
		for _, args := range [][]string{
			append(attrs("US", "en", "18-24", "ios"), "--window", w1.Format(time.RFC3339)),
			append(attrs("BR", "pt", "25-34", "android"), "--window", w1.Add(time.Hour).Format(time.RFC3339)),
		} {
			code, out, errOut := runCLI(t, "", slices.Concat(asTargeter, args)...)
			if code != exitFailure || out != "" || !strings.Contains(errOut, "no published cohort covers ") ||
				!strings.Contains(errOut, "in the window starting ") || !strings.Contains(errOut, "4 generalizations") {
				t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out, errOut)
			}
		}
	})

	t.Run("wrong password", func(t *testing.T) {
		t.Setenv("COHORTLINE_CLICKHOUSE_PASSWORD", "not-"+devenv.TargeterPassword())
		code, out, errOut := runCLI(t, "", slices.Concat(asTargeter, attrs("BR", "pt", "25-34", "ios"))...)
		if code != exitFailure || out != "" || !strings.Contains(errOut, "Wrong password for user targeter") ||
			strings.Contains(errOut, "not-"+devenv.TargeterPassword()) {
			t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
		}
	})
}
