package clickhouse

import (
	"testing"
	"time"
)

// TestEnrichmentLatestView: the view the targeter reads gives, per cohort,
// the newest window, and of a republished window the newest publish.
func TestEnrichmentLatestView(t *testing.T) {
	c := migratedClient(t, testConfig(t))
	w0, w1 := window, window.Add(time.Hour)
	publishRows(t, c, []EnrichmentRow{
		enrichment(w0, 1, "k", 60, w1),
		enrichment(w1, 1, "k", 70, w1.Add(time.Hour)),
		enrichment(w1, 1, "k", 75, w1.Add(2*time.Hour)), // republish of w1
		enrichment(w0, 2, "k", 80, w1),
	})
	// A newer window of cohort 2 without a ledgered release: hidden.
	if err := c.WriteEnrichment(t.Context(), []EnrichmentRow{enrichment(w1, 2, "k", 90, w1.Add(3*time.Hour))}); err != nil {
		t.Fatal(err)
	}
	rows, err := c.conn.Query(t.Context(), "SELECT cohort_id, window_start, users, features FROM "+c.cfg.PublishedDatabase+".cohort_enrichment_latest ORDER BY cohort_id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	type latest struct {
		id    uint64
		ws    time.Time
		users uint64
		f     float32
	}
	var got []latest
	for rows.Next() {
		var l latest
		var features []float32
		if err := rows.Scan(&l.id, &l.ws, &l.users, &features); err != nil {
			t.Fatal(err)
		}
		l.f = features[0]
		got = append(got, l)
	}
	if len(got) != 2 || got[0].id != 1 || !got[0].ws.Equal(w1) || got[0].users != 75 || got[0].f != 75 ||
		got[1].id != 2 || !got[1].ws.Equal(w0) || got[1].users != 80 {
		t.Errorf("cohort_enrichment_latest = %+v, want cohort 1 at %s with 75 users, cohort 2 at %s with 80", got, w1, w0)
	}
}
