package publish

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// RepublishRange is PublishRange for a range whose partials were just
// rebuilt (backfill): every window of [from, to) that has no partials now
// but had published cohorts gets an empty release, which withdraws them,
// instead of keeping rows that no partials back any more. (PublishRange
// leaves windows without partials alone: partials are pruned by
// retention long before their releases are.)
func (p *Publisher) RepublishRange(ctx context.Context, from, to time.Time) (results []Result, err error) {
	s, err := p.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, s.Close(ctx)) }()
	if results, err = s.PublishRange(ctx, from, to); err != nil {
		return results, err
	}
	done := map[int64]bool{}
	for _, r := range results {
		done[r.Window.Start] = true
	}
	for w := p.cfg.Spec.WindowOf(from.UnixMilli()); w.Start < to.UnixMilli(); w = p.cfg.Spec.WindowOf(w.End) {
		if done[w.Start] || w.Start < from.UnixMilli() {
			continue
		}
		published, err := p.store.PublishedCohorts(ctx, w)
		if err != nil {
			return results, fmt.Errorf("reading the published cohorts of %s: %w", w, err)
		}
		if len(published) == 0 {
			continue
		}
		r, err := s.publish(ctx, w, nil)
		if err != nil {
			return results, fmt.Errorf("withdrawing the %d published cohorts of %s, which has no partials now: %w", len(published), w, err)
		}
		results = append(results, r)
	}
	slices.SortFunc(results, func(a, b Result) int { return cmp.Compare(a.Window.Start, b.Window.Start) })
	return results, nil
}
