package clickhouse

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// EnrichmentRow is one published row of cohort_enrichment: a cohort's
// protected feature vector for one window, as the targeter reads it.
type EnrichmentRow struct {
	WindowStart time.Time // UTC, whole seconds
	WindowEnd   time.Time // UTC, whole seconds, after WindowStart
	CohortID    uint64    // cityHash64(CohortKey)
	CohortKey   string    // canonical key, "*" for a generalized dimension
	Level       string    // the generalized dimensions, as cohorts.Level spells them; "" for a finest cohort
	Users       uint64    // noised distinct users, at least k
	Features    []float32 // slots named by feature_dictionary
	FeatureSet  uint16
	Release     string // version of the cohort spec and feature set
	PublishedAt time.Time
}

// enrichmentColumns are the columns WriteEnrichment writes, in the order
// of enrichmentColumnsOf; 18.16 needs the explicit list.
var enrichmentColumns = []string{
	"window_start", "window_end", "cohort_id", "cohort_key", "level", "users",
	"features", "feature_set", "release", "published_at",
}

// WriteEnrichment inserts published rows into cohort_enrichment as one
// columnar batch, retrying retryable errors. Writing rows again is
// harmless: per (cohort, window) readers take the newest published_at,
// and merges keep it. It does not remove rows of cohorts that rows no
// longer have: ReplaceEnrichmentWindow does (DDL 0004).
func (c *Client) WriteEnrichment(ctx context.Context, rows []EnrichmentRow) error {
	if len(rows) == 0 {
		return nil
	}
	if err := checkEnrichment(rows); err != nil {
		return fmt.Errorf("writing published rows: %w", err)
	}
	table := c.table(c.cfg.PublishedDatabase, "cohort_enrichment")
	cols := enrichmentColumnsOf(rows)
	err := retry(ctx, c.cfg.Retry, func(ctx context.Context) error { return c.sendEnrichment(ctx, table, cols) })
	if err != nil {
		return fmt.Errorf("writing %d published rows to %s: %w", len(rows), table, err)
	}
	return nil
}

// sendEnrichment inserts cols (enrichmentColumnsOf) into table, which has
// cohort_enrichment's columns, as one batch, without retrying.
func (c *Client) sendEnrichment(ctx context.Context, table string, cols []any) error {
	batch, err := c.conn.PrepareBatch(ctx, "INSERT INTO "+table+" ("+strings.Join(enrichmentColumns, ", ")+")")
	if err != nil {
		return err
	}
	defer batch.Close() // releases the connection if Send is not reached
	for i, col := range cols {
		if err := batch.Column(i).Append(col); err != nil {
			return fmt.Errorf("appending column %s: %w", enrichmentColumns[i], err)
		}
	}
	return batch.Send()
}

func checkEnrichment(rows []EnrichmentRow) error {
	for i, r := range rows {
		if err := r.check(); err != nil {
			return fmt.Errorf("row %d (cohort %q): %w", i, r.CohortKey, err)
		}
	}
	return nil
}

func (r EnrichmentRow) check() error {
	switch {
	case r.WindowStart.IsZero() || r.WindowStart.Nanosecond() != 0:
		return fmt.Errorf("window start %s is not a whole second", r.WindowStart)
	case r.WindowEnd.Nanosecond() != 0 || !r.WindowEnd.After(r.WindowStart):
		return fmt.Errorf("window end %s is not a whole second after the start", r.WindowEnd)
	case r.CohortKey == "":
		return fmt.Errorf("no cohort key")
	}
	return nil
}

// enrichmentColumnsOf returns rows as typed columns in enrichmentColumns
// order.
func enrichmentColumnsOf(rows []EnrichmentRow) []any {
	n := len(rows)
	var (
		start, end, published = make([]time.Time, n), make([]time.Time, n), make([]time.Time, n)
		ids, users            = make([]uint64, n), make([]uint64, n)
		keys, levels, release = make([]string, n), make([]string, n), make([]string, n)
		features              = make([][]float32, n)
		sets                  = make([]uint16, n)
	)
	for i, r := range rows {
		start[i], end[i], published[i] = r.WindowStart, r.WindowEnd, r.PublishedAt
		ids[i], users[i] = r.CohortID, r.Users
		keys[i], levels[i], release[i] = r.CohortKey, r.Level, r.Release
		features[i], sets[i] = r.Features, r.FeatureSet
		if features[i] == nil {
			features[i] = []float32{}
		}
	}
	return []any{start, end, ids, keys, levels, users, features, sets, release, published}
}

// DictionaryEntry names one slot of the published features array of a
// feature set: a feature_dictionary row.
type DictionaryEntry struct {
	FeatureSet  uint16
	Index       uint32 // 0-based position in EnrichmentRow.Features
	Name        string // stable forever, e.g. "reach.kind.message_sent"
	Description string
	Unit        string // "users", "events" or "seconds"
}

// WriteFeatureDictionary inserts dictionary entries, retrying retryable
// errors. Writing a feature set's entries again is harmless: readers fold
// repeats (FeatureDictionary), and so do merges.
func (c *Client) WriteFeatureDictionary(ctx context.Context, entries []DictionaryEntry) error {
	if len(entries) == 0 {
		return nil
	}
	insert := "INSERT INTO " + c.cfg.PublishedDatabase + ".feature_dictionary (feature_set, `index`, name, description, unit)"
	err := retry(ctx, c.cfg.Retry, func(ctx context.Context) error {
		batch, err := c.conn.PrepareBatch(ctx, insert)
		if err != nil {
			return err
		}
		defer batch.Close()
		for _, e := range entries {
			if err := batch.Append(e.FeatureSet, e.Index, e.Name, e.Description, e.Unit); err != nil {
				return err
			}
		}
		return batch.Send()
	})
	if err != nil {
		return fmt.Errorf("writing %d entries to %s.feature_dictionary: %w", len(entries), c.cfg.PublishedDatabase, err)
	}
	return nil
}
