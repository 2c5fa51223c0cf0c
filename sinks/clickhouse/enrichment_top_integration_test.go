package clickhouse

import (
	"reflect"
	"testing"
	"time"
)

// TestTopCohorts: the largest cohorts of the window with the most
// published users, newest publish of each, at most n.
func TestTopCohorts(t *testing.T) {
	topCohortsScenario(t, migratedClient(t, testConfig(t)))
}

// topCohortsScenario is TestTopCohorts on a migrated client.
func topCohortsScenario(t *testing.T, c *Client) {
	if got, err := c.TopCohorts(t.Context(), 3); err != nil || len(got) != 0 {
		t.Fatalf("nothing published: %v, %v", got, err)
	}
	w0, w1 := window, window.Add(time.Hour)
	rows := []EnrichmentRow{
		enrichment(w0, 1, "a", 500, w1), // the biggest cohort, in the smaller window
		enrichment(w1, 1, "a", 100, w1.Add(time.Hour)),
		enrichment(w1, 2, "b", 200, w1.Add(time.Hour)),
		enrichment(w1, 2, "b", 210, w1.Add(2*time.Hour)), // republish of b
		enrichment(w1, 3, "c", 300, w1.Add(time.Hour)),
		enrichment(w1, 4, "d", 60, w1.Add(time.Hour)),
	}
	publishRows(t, c, rows)
	got, err := c.TopCohorts(t.Context(), 3)
	if err != nil {
		t.Fatal(err)
	}
	want := []EnrichmentRow{rows[4], rows[3], rows[1]}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("TopCohorts =\n%+v\nwant\n%+v", got, want)
	}

	// A window published twice, whose rows merges have not folded yet:
	// 2 × 400 users in the table, 400 to readers, so still smaller than
	// w1's 670. Summing the table's rows would pick it (the demo once
	// showed the wrong busiest hour so).
	w2 := w1.Add(time.Hour)
	for i := range 2 {
		publishRows(t, c, []EnrichmentRow{enrichment(w2, 5, "e", 400, w2.Add(time.Duration(i+1)*time.Hour))})
	}
	if got, err := c.TopCohorts(t.Context(), 3); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("TopCohorts with an unmerged republish =\n%+v, %v\nwant\n%+v", got, err, want)
	}
}

// TestDropDatabases: both databases go, and dropping again is no error.
func TestDropDatabases(t *testing.T) {
	cfg := testConfig(t)
	c := migratedClient(t, cfg)
	for range 2 {
		if err := c.DropDatabases(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	var n uint64
	if err := c.conn.QueryRow(t.Context(), "SELECT count() FROM system.databases WHERE name IN (?, ?)",
		cfg.Database, cfg.PublishedDatabase).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d of the databases %s, %s remain", n, cfg.Database, cfg.PublishedDatabase)
	}
}
