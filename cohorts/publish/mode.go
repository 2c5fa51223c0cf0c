package publish

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrMode is wrapped by the error of a publish refused because the
// published database holds releases of another mode.
var ErrMode = errors.New("published database is bound to another mode")

// checkMode refuses to publish into a published database that holds a
// release of another mode (DESIGN.md, privacy invariant 5): exact or
// publicly keyed rows of a test or development run must never sit next
// to production releases, where a reader could not tell them apart, nor
// production rows in a database that test runs write. The database is
// bound by its releases (Store.PublishedModes); releases of unknown mode
// (written before modes were recorded) bind nothing.
func (p *Publisher) checkMode(ctx context.Context) error {
	db, modes, err := p.store.PublishedModes(ctx)
	if err != nil {
		return fmt.Errorf("reading the modes of the published releases: %w", err)
	}
	var other []string
	for _, m := range modes {
		if m != "" && m != p.cfg.Mode && !slices.Contains(other, m) {
			other = append(other, m)
		}
	}
	if len(other) == 0 {
		return nil
	}
	slices.Sort(other)
	return fmt.Errorf("%w: published database %s holds releases of mode %s, and this publish runs in mode %s: nothing was written. "+
		"A published database takes the releases of one mode only; publish into another clickhouse.published_database "+
		"(one per mode), or, if the %s releases there are not needed, drop that database and migrate again",
		ErrMode, db, strings.Join(other, " and "), p.cfg.Mode, strings.Join(other, " and "))
}
