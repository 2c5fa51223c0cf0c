package clickhouse

import (
	"context"
	"fmt"
	"time"

	"github.com/cohortline/cohortline/cohorts"
)

// Found is the answer of Lookup: the published row of the most specific
// cohort that covers a finest key.
type Found struct {
	Row EnrichmentRow
	// Level is the row's place in the finest key's chain: 0 the finest
	// cohort itself, Levels the top (every dimension generalized).
	Level, Levels int
}

// NotFoundError says that no cohort of a finest key's chain is published.
type NotFoundError struct {
	Finest cohorts.Key
	Window time.Time // zero: any window
	Levels int       // the generalizations tried beside the finest key
	Table  string    // the view read
}

func (e *NotFoundError) Error() string {
	where := "in any window"
	if !e.Window.IsZero() {
		where = "in the window starting " + e.Window.Format(time.RFC3339)
	}
	return fmt.Sprintf("no published cohort covers %s %s: neither it nor any of its %d generalizations has a row in %s",
		e.Finest, where, e.Levels, e.Table)
}

// Lookup answers the targeter's question for one person: of the finest
// cohort of their attributes and each generalization of it along the
// spec's order, read in one query from the targeter's views (see
// ReadEnrichment for window), the most specific one published. No row
// published is a *NotFoundError.
func (c *Client) Lookup(ctx context.Context, spec cohorts.Spec, finest cohorts.Key, window time.Time) (Found, error) {
	var chain []cohorts.Key
	ids := make([]uint64, 0, len(spec.Generalize)+1)
	for _, k := range spec.Ancestors(finest) {
		chain = append(chain, k)
		ids = append(ids, k.ID())
	}
	rows, err := c.ReadEnrichment(ctx, ids, window)
	if err != nil {
		return Found{}, err
	}
	level, row, ok := mostSpecific(chain, rows)
	if !ok {
		return Found{}, &NotFoundError{Finest: finest, Window: window, Levels: len(chain) - 1,
			Table: c.cfg.Published() + "." + EnrichmentView(window)}
	}
	return Found{Row: row, Level: level, Levels: len(chain) - 1}, nil
}

// mostSpecific returns the row of the lowest chain level. A row counts
// only if its key is the candidate's: an id is a hash of the key, and a
// row published under another spec (another dimension order) must not
// pass for this one.
func mostSpecific(chain []cohorts.Key, rows []EnrichmentRow) (int, EnrichmentRow, bool) {
	byID := make(map[uint64]EnrichmentRow, len(rows))
	for _, r := range rows {
		byID[r.CohortID] = r
	}
	for level, k := range chain {
		if r, ok := byID[k.ID()]; ok && r.CohortKey == k.String() {
			return level, r, true
		}
	}
	return 0, EnrichmentRow{}, false
}
