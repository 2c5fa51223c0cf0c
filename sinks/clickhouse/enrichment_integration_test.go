package clickhouse

import (
	"reflect"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
)

// enrichment returns a published row of cohort id in window ws.
func enrichment(ws time.Time, id uint64, key string, users uint64, published time.Time) EnrichmentRow {
	return EnrichmentRow{
		WindowStart: ws, WindowEnd: ws.Add(time.Hour), CohortID: id, CohortKey: key,
		Users: users, Features: []float32{float32(users), 0.5}, FeatureSet: 1, Release: "r1", PublishedAt: published,
	}
}

// TestReadEnrichment: published rows come back whole; per cohort the
// newest window, or the asked one, and of a republished window the
// newest publish of a ledgered release; cohorts without a row are left
// out.
func TestReadEnrichment(t *testing.T) {
	c := migratedClient(t, testConfig(t))
	w0, w1 := window, window.Add(time.Hour)
	rows := []EnrichmentRow{
		enrichment(w0, 10, "a", 60, w1),
		enrichment(w1, 10, "a", 70, w1.Add(time.Hour)),
		enrichment(w1, 10, "a", 75, w1.Add(2*time.Hour)), // republish of w1
		enrichment(w0, 20, "b", 80, w1),
	}
	rows[3].Level, rows[3].Release = "platform", "r2"
	publishRows(t, c, rows)
	// Newer still, but of no ledgered release: never read.
	stray := []EnrichmentRow{enrichment(w1, 10, "a", 99, w1.Add(3*time.Hour)), enrichment(w1.Add(time.Hour), 20, "b", 99, w1.Add(3*time.Hour))}
	if err := c.WriteEnrichment(t.Context(), stray); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		window time.Time
		want   []EnrichmentRow
	}{
		{"latest", time.Time{}, []EnrichmentRow{rows[2], rows[3]}},
		{"window w0", w0, []EnrichmentRow{rows[0], rows[3]}},
		{"window w1", w1, []EnrichmentRow{rows[2]}},
		{"no such window", w1.Add(2 * time.Hour), nil},
		{"window of a stray row only", w1.Add(time.Hour), nil},
	} {
		got, err := c.ReadEnrichment(t.Context(), []uint64{10, 20, 30}, tc.window)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if len(got) != len(tc.want) || (len(got) > 0 && !reflect.DeepEqual(got, tc.want)) {
			t.Errorf("%s: ReadEnrichment =\n%+v\nwant\n%+v", tc.name, got, tc.want)
		}
	}
	if got, err := c.ReadEnrichment(t.Context(), nil, time.Time{}); err != nil || got != nil {
		t.Errorf("no ids: %v, %v", got, err)
	}
}

// TestReadEnrichmentPushdown: ReadEnrichment filters the views, and
// 18.16 pushes that filter inside only with
// enable_optimize_predicate_expression (the targeter's profile sets it):
// the answers must be the same with it and without.
func TestReadEnrichmentPushdown(t *testing.T) {
	c := migratedClient(t, testConfig(t))
	var rows []EnrichmentRow
	var ids []uint64
	for id := uint64(1); id <= 5; id++ {
		ids = append(ids, id)
		for w := range id { // cohort id has id windows, the last one published twice
			ws := window.Add(time.Duration(w) * time.Hour)
			rows = append(rows, enrichment(ws, id, "k", 50+id*10+w, ws.Add(2*time.Hour)))
		}
		last := rows[len(rows)-1]
		last.Users++
		last.PublishedAt = last.PublishedAt.Add(time.Minute)
		rows = append(rows, last)
	}
	publishRows(t, c, rows)
	pushed := ch.Context(t.Context(), ch.WithSettings(ch.Settings{"enable_optimize_predicate_expression": 1}))
	plain := ch.Context(t.Context(), ch.WithSettings(ch.Settings{"enable_optimize_predicate_expression": 0}))
	for _, ws := range []time.Time{{}, window, window.Add(2 * time.Hour)} {
		a, err := c.ReadEnrichment(pushed, ids[1:4], ws)
		if err != nil {
			t.Fatal(err)
		}
		b, err := c.ReadEnrichment(plain, ids[1:4], ws)
		if err != nil {
			t.Fatal(err)
		}
		if len(a) == 0 || !reflect.DeepEqual(a, b) {
			t.Errorf("window %s: with pushdown\n%+v\nwithout\n%+v", ws, a, b)
		}
	}
}

func TestWriteEnrichmentRefusesBadWindows(t *testing.T) {
	c, err := open(Config{}) // does not connect: the rows are refused first
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	half := enrichment(window.Add(500*time.Millisecond), 1, "k", 60, window)
	backwards := enrichment(window, 1, "k", 60, window)
	backwards.WindowEnd = window
	for _, r := range []EnrichmentRow{half, backwards, {WindowStart: window, WindowEnd: window.Add(time.Hour)}} {
		if err := c.WriteEnrichment(t.Context(), []EnrichmentRow{r}); err == nil {
			t.Errorf("WriteEnrichment(%+v) succeeded", r)
		}
	}
}

// TestFeatureDictionary: entries come back by index, repeats once.
func TestFeatureDictionary(t *testing.T) {
	c := migratedClient(t, testConfig(t))
	entries := []DictionaryEntry{
		{FeatureSet: 1, Index: 1, Name: "sum.kind.call", Description: "Events of kind call", Unit: "events"},
		{FeatureSet: 1, Index: 0, Name: "reach.kind.call", Description: "Users with a call", Unit: "users"},
		{FeatureSet: 2, Index: 0, Name: "other", Unit: "users"},
	}
	for range 2 { // a second start of publish writes them again
		if err := c.WriteFeatureDictionary(t.Context(), entries); err != nil {
			t.Fatal(err)
		}
	}
	got, err := c.FeatureDictionary(t.Context(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if want := []DictionaryEntry{entries[1], entries[0]}; !reflect.DeepEqual(got, want) {
		t.Errorf("FeatureDictionary(1) = %+v, want %+v", got, want)
	}
}
