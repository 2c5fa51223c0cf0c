package clickhouse

import (
	"reflect"
	"testing"
	"time"
)

// TestReplaceEnrichmentWindowEmptiesDay: replacing the only window of a
// day with no rows leaves nothing in that day and the next day as it
// was; emptying it again is no error; and a day with no rows can be
// replaced into. Current ClickHouse refuses REPLACE PARTITION from an
// empty staging table (allow_replace_partition_from_empty_source, which
// 18.16 does not know), so the first case takes another path there.
func TestReplaceEnrichmentWindowEmptiesDay(t *testing.T) {
	emptyDayScenario(t, migratedClient(t, testConfig(t)))
}

// emptyDayScenario is TestReplaceEnrichmentWindowEmptiesDay on a migrated
// client.
func emptyDayScenario(t *testing.T, c *Client) {
	ctx := t.Context()
	w, next := window, window.Add(24*time.Hour)
	pub := next.Add(2 * time.Hour)
	publishRows(t, c, []EnrichmentRow{enrichment(w, 1, "c1", 60, pub), enrichment(next, 2, "c2", 61, pub)})
	nextBefore := storedEnrichment(t, c, windowIs(next))

	for range 2 {
		if err := c.ReplaceEnrichmentWindow(ctx, w, w.Add(time.Hour), nil, nil); err != nil {
			t.Fatalf("emptying the only window of a day: %v", err)
		}
		if got := storedEnrichment(t, c, windowIs(w)); len(got) != 0 {
			t.Errorf("the emptied window still holds %+v", got)
		}
		if got := publishedCohorts(t, c, w); len(got) != 0 {
			t.Errorf("PublishedCohorts of the emptied window = %v, want none", got)
		}
		if got := storedEnrichment(t, c, windowIs(next)); !reflect.DeepEqual(got, nextBefore) {
			t.Errorf("the next day changed:\n%+v\nwas\n%+v", got, nextBefore)
		}
		assertTables(t, c, "after emptying a day")
	}

	again := []EnrichmentRow{enrichment(w, 3, "c3", 70, pub.Add(time.Hour))}
	markReleased(t, c, again)
	if err := c.ReplaceEnrichmentWindow(ctx, w, w.Add(time.Hour), again, nil); err != nil {
		t.Fatalf("replacing into an empty day: %v", err)
	}
	if got := storedEnrichment(t, c, windowIs(w)); !reflect.DeepEqual(got, again) {
		t.Errorf("the day replaced into holds\n%+v\nwant\n%+v", got, again)
	}
	assertTables(t, c, "after replacing into an empty day")
}
