package clickhouse

import (
	"fmt"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// cookbookSection is the README section whose SQL TestCookbook runs.
const cookbookSection = "## SQL cookbook for targeters"

// cookbookBlocks returns the named SQL blocks of the cookbook section, in
// order: fences opened by "```sql <name>". A block without a name fails:
// every query in the docs must be tested.
func cookbookBlocks(t *testing.T) map[string]string {
	t.Helper()
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(data), "\n"+cookbookSection+"\n")
	if !ok {
		t.Fatalf("README.md has no %q section", cookbookSection)
	}
	if end := strings.Index(section, "\n## "); end >= 0 {
		section = section[:end]
	}
	blocks := map[string]string{}
	lines := strings.Split(section, "\n")
	for i := 0; i < len(lines); i++ {
		info, ok := strings.CutPrefix(lines[i], "```")
		if !ok || info == "" {
			continue
		}
		lang, name, _ := strings.Cut(info, " ")
		if lang != "sql" {
			continue
		}
		if name == "" {
			t.Fatalf("README.md line %q: a cookbook SQL block without a name, so without a test", lines[i])
		}
		var sql []string
		for i++; i < len(lines) && lines[i] != "```"; i++ {
			sql = append(sql, lines[i])
		}
		if _, dup := blocks[name]; dup {
			t.Fatalf("README.md: two cookbook blocks named %q", name)
		}
		blocks[name] = strings.Join(sql, "\n")
	}
	return blocks
}

// TestCookbook runs every SQL block of README.md's cookbook as the
// targeter's account on the real server, over known published rows, and
// checks what each returns. The blocks name cohortline_published; the
// test reads its own published database instead.
func TestCookbook(t *testing.T) {
	admin, targeter := targeterClients(t)
	cookbookScenario(t, admin, targeter, nil)
}

// cookbookScenario publishes the cookbook's rows through admin and runs
// every block as targeter (the same client where there are no accounts,
// as in chDB), calling before(name) before each block runs.
func cookbookScenario(t *testing.T, admin, targeter *Client, before func(name string)) {
	w0 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	w1 := w0.Add(time.Hour)
	const (
		br    = "country=BR|lang=pt|age=25-34|platform=android"
		brAny = "country=BR|lang=pt|age=25-34|platform=*"
		us    = "country=US|lang=en|age=18-24|platform=ios"
		top   = "country=*|lang=*|age=*|platform=*"
	)
	row := func(key string, ws time.Time, users uint64, f []float32, published time.Time) EnrichmentRow {
		return EnrichmentRow{WindowStart: ws, WindowEnd: ws.Add(time.Hour), CohortID: cityHash(t, admin, key), CohortKey: key,
			Users: users, Features: f, FeatureSet: 1, Release: "r1", PublishedAt: published}
	}
	publishRows(t, admin, []EnrichmentRow{
		row(br, w0, 60, []float32{30, 120}, w0.Add(2*time.Hour)),
		row(br, w1, 64, []float32{32, 128}, w1.Add(2*time.Hour)),
		row(br, w1, 65, []float32{33, 130}, w1.Add(3*time.Hour)), // republish: the newest wins
		row(brAny, w1, 200, []float32{100, 400}, w1.Add(2*time.Hour)),
		row(us, w0, 70, []float32{35, 140}, w0.Add(2*time.Hour)),
		row(top, w0, 5000, []float32{2500, 10000}, w0.Add(2*time.Hour)),
	})
	// A row of a release without a ledger row (none is in
	// published_releases), newer than every other: no recipe may show it.
	unledgered := row(br, w1, 9999, []float32{9999, 9999}, w1.Add(9*time.Hour))
	if err := admin.WriteEnrichment(t.Context(), []EnrichmentRow{unledgered}); err != nil {
		t.Fatal(err)
	}
	dict := []DictionaryEntry{
		{FeatureSet: 1, Index: 0, Name: "reach.kind.call", Description: "Users who called", Unit: "users"},
		{FeatureSet: 1, Index: 1, Name: "sum.kind.call", Description: "Calls", Unit: "events"},
	}
	for range 2 { // repeats must count once
		if err := admin.WriteFeatureDictionary(t.Context(), dict); err != nil {
			t.Fatal(err)
		}
	}

	noise := []FeatureNoise{
		{Release: "r1", FeatureSet: 1, Index: 0, Name: "reach.kind.call", Sigma: 11.18}, // 33 ± 11: above 25%
		{Release: "r1", FeatureSet: 1, Index: 1, Name: "sum.kind.call", Sigma: 10},      // 130 ± 10: 7.7%
		{Release: "r1", FeatureSet: 1, Index: UsersIndex, Name: "users", Sigma: 4},
	}
	for range 2 { // repeats must count once
		if err := admin.WriteFeatureNoise(t.Context(), noise); err != nil {
			t.Fatal(err)
		}
	}

	type run struct {
		edit func(string) string // applied to the block before it runs; nil: as written
		want [][]string
	}
	attrs := func(country, lang, age, platform string) func(string) string {
		return strings.NewReplacer("'BR' AS country", "'"+country+"' AS country", "'pt' AS lang", "'"+lang+"' AS lang",
			"'25-34' AS age", "'"+age+"' AS age", "'android' AS platform", "'"+platform+"' AS platform").Replace
	}
	cases := map[string][]run{
		"key-and-id": {{want: [][]string{{br, "4918191456130276520"}}}},
		"chain": {{want: [][]string{
			{br, "4918191456130276520"},
			{brAny, "18410942520450877526"},
			{"country=BR|lang=pt|age=*|platform=*", "8884351474400404762"},
			{"country=BR|lang=*|age=*|platform=*", "2162436089498192972"},
			{top, "14967802995827075989"},
		}}},
		"latest-vectors": {{want: [][]string{
			{br, "2026-11-01 11:00:00", "65", "[33 130]"},
			{us, "2026-11-01 10:00:00", "70", "[35 140]"},
		}}},
		"window": {{want: [][]string{
			{br, "60", "[30 120]"},
			{us, "70", "[35 140]"},
		}}},
		"history": {{want: [][]string{ // w1 once: its republish, not the unledgered row
			{"2026-11-01 10:00:00", "60", "[30 120]"},
			{"2026-11-01 11:00:00", "65", "[33 130]"},
		}}},
		"best-match": {
			{want: [][]string{{br, "0", "2026-11-01 11:00:00", "65", "[33 130]"}}},
			{edit: attrs("BR", "pt", "25-34", "ios"), want: [][]string{{brAny, "1", "2026-11-01 11:00:00", "200", "[100 400]"}}},
			{edit: attrs("US", "en", "18-24", "web"), want: [][]string{{top, "4", "2026-11-01 10:00:00", "5000", "[2500 10000]"}}},
		},
		"dictionary": {{want: [][]string{
			{"0", "reach.kind.call", "users", "Users who called"},
			{"1", "sum.kind.call", "events", "Calls"},
		}}},
		"error-bars": {{want: [][]string{
			{"1", "130", "10", strconv.FormatFloat(10.0/130, 'g', -1, 64)},
		}}},
		"named-features": {{want: [][]string{
			{"0", "reach.kind.call", "users", "33", strconv.FormatFloat(33.0/65, 'g', -1, 64)},
			{"1", "sum.kind.call", "events", "130", "2"},
		}}},
	}

	blocks := cookbookBlocks(t)
	for name := range cases {
		if _, ok := blocks[name]; !ok {
			t.Errorf("no cookbook block named %q in README.md", name)
		}
	}
	for name, sql := range blocks {
		runs, ok := cases[name]
		if !ok {
			t.Errorf("README.md cookbook block %q has no expected result here: every query in the docs must be tested", name)
			continue
		}
		sql = strings.ReplaceAll(sql, "cohortline_published.", admin.cfg.PublishedDatabase+".")
		if before != nil {
			before(name)
		}
		for _, r := range runs {
			q := sql
			if r.edit != nil {
				if q = r.edit(sql); q == sql {
					t.Fatalf("%s: the edit changed nothing; is the block's example still the same?", name)
				}
			}
			got, err := queryText(t, targeter, q)
			if err != nil {
				t.Errorf("%s as targeter: %v\n%s", name, err, q)
				continue
			}
			if !slices.EqualFunc(got, r.want, slices.Equal) {
				t.Errorf("%s as targeter returned\n%q\nwant\n%q", name, got, r.want)
			}
			if old, ok := cookbookBefore[name]; ok {
				old = strings.ReplaceAll(old, "cohortline_published.", admin.cfg.PublishedDatabase+".")
				if r.edit != nil {
					old = r.edit(old)
				}
				was, err := queryText(t, targeter, old)
				if err != nil || !slices.EqualFunc(got, was, slices.Equal) {
					t.Errorf("%s over cohort_latest returned\n%q\nbut over cohort_enrichment (the recipe before issue 19)\n%q, %v", name, got, was, err)
				}
			}
		}
	}
}

// cookbookBefore are the recipes that read cohort_latest as they were
// before it (issue 19): over the view cohort_enrichment_latest, which
// computes the same from cohort_enrichment. TestCookbook checks that both
// give the same answer.
var cookbookBefore = map[string]string{
	"latest-vectors": `SELECT cohort_key, window_start, users, features
FROM cohortline_published.cohort_enrichment_latest
WHERE cohort_id IN (
    cityHash64('country=BR|lang=pt|age=25-34|platform=android'),
    cityHash64('country=US|lang=en|age=18-24|platform=ios'),
    cityHash64('country=DE|lang=de|age=35-44|platform=web')
)
ORDER BY cohort_key`,
	"best-match": `SELECT
    cohort_key,
    length(cohort_key) - length(replaceAll(cohort_key, '*', '')) AS generalized_dimensions,
    window_start,
    users,
    features
FROM cohortline_published.cohort_enrichment_latest
WHERE cohort_id IN
(
    SELECT cityHash64(arrayJoin([
        concat('country=', country, '|lang=', lang, '|age=', age, '|platform=', platform),
        concat('country=', country, '|lang=', lang, '|age=', age, '|platform=*'),
        concat('country=', country, '|lang=', lang, '|age=*|platform=*'),
        concat('country=', country, '|lang=*|age=*|platform=*'),
        'country=*|lang=*|age=*|platform=*'
    ]))
    FROM (SELECT 'BR' AS country, 'pt' AS lang, '25-34' AS age, 'android' AS platform)
)
ORDER BY generalized_dimensions
LIMIT 1`,
}

// cityHash asks the server for cityHash64(key), so the fixture's ids come
// from ClickHouse itself.
func cityHash(t *testing.T, c *Client, key string) uint64 {
	t.Helper()
	var id uint64
	if err := c.conn.QueryRow(t.Context(), "SELECT cityHash64(?)", key).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// queryText runs q and returns its rows as text: DateTime as
// "2006-01-02 15:04:05" (UTC), floats shortest, arrays as Go prints them.
func queryText(t *testing.T, c *Client, q string) ([][]string, error) {
	t.Helper()
	rows, err := c.conn.Query(t.Context(), q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	types := rows.ColumnTypes()
	var out [][]string
	for rows.Next() {
		dest := make([]any, len(types))
		for i, ct := range types {
			dest[i] = reflect.New(ct.ScanType()).Interface()
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		line := make([]string, len(dest))
		for i, d := range dest {
			line[i] = text(reflect.ValueOf(d).Elem().Interface())
		}
		out = append(out, line)
	}
	return out, rows.Err()
}

func text(v any) string {
	switch v := v.(type) {
	case time.Time:
		return v.UTC().Format(time.DateTime)
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(v), 'g', -1, 32)
	}
	return fmt.Sprint(v)
}
