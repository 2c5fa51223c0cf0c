package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cohortline/cohortline/cohorts"
	"github.com/cohortline/cohortline/cohorts/publish"
)

// PublishStore is cohorts/publish's Store on ClickHouse: partials from
// cohort_partials_current, the publish lease and the privacy ledger, and
// published_releases, feature_noise, cohort_enrichment and its lookup
// table cohort_latest in the published database. It converts between the publisher's types and
// this package's rows; nothing else does.
type PublishStore struct {
	c     *Client
	lease LeaseConfig
}

// PublishStore is the Store of a publisher that takes the lease as lease
// says.
func (c *Client) PublishStore(lease LeaseConfig) PublishStore {
	return PublishStore{c: c, lease: lease}
}

func (s PublishStore) AcquireLease(ctx context.Context) (publish.Lease, error) {
	l, err := s.c.AcquireLease(ctx, s.lease)
	if errors.Is(err, ErrLeaseHeld) {
		return nil, fmt.Errorf("%w (publish.lease_wait is %s)", err, s.lease.Wait)
	}
	if err != nil {
		return nil, err
	}
	return l, nil
}

func (s PublishStore) PublishedModes(ctx context.Context) (string, []string, error) {
	modes, err := s.c.PublishedModes(ctx)
	return s.c.PublishedDatabase(), modes, err
}

func (s PublishStore) AppendPublishedRelease(ctx context.Context, e publish.LedgerEntry) error {
	return s.c.AppendPublishedRelease(ctx, PublishedRelease{
		WindowStart: time.UnixMilli(e.Window.Start).UTC(), WindowEnd: time.UnixMilli(e.Window.End).UTC(),
		Release: e.Release, PublishedAt: e.ReleasedAt, Mode: e.Mode,
	})
}

// Partials reads the current partials of [from, to). In cluster mode the
// replicas catch up first (replicas.go): a release made from a replica
// that lacks a flush its peer acknowledged would publish part of a window.
func (s PublishStore) Partials(ctx context.Context, spec cohorts.Spec, from, to time.Time) (map[int64][]cohorts.Partial, error) {
	if s.c.cfg.Cluster != "" {
		db := s.c.cfg.Database
		if err := s.c.syncEveryReplica(ctx, db+".cohort_partials_local", db+".window_progress_local", db+".backfill_progress_local"); err != nil {
			return nil, fmt.Errorf("reading the partials of [%s, %s) on cluster %q: %w", from.UTC().Format(time.RFC3339), to.UTC().Format(time.RFC3339), s.c.cfg.Cluster, err)
		}
	}
	rows, err := s.c.CurrentPartials(ctx, from, to)
	if err != nil {
		return nil, err
	}
	out := map[int64][]cohorts.Partial{}
	for _, r := range rows {
		if r.FeatureSet < 1 || r.FeatureSet > cohorts.PartialFeatureSet {
			return nil, fmt.Errorf("window %s: cohort %s has partials of layout %d; this build reads layouts 1 to %d",
				r.WindowStart.Format(time.RFC3339), r.CohortKey, r.FeatureSet, cohorts.PartialFeatureSet)
		}
		k, err := cohorts.ParseKey(spec, r.CohortKey)
		if err != nil {
			return nil, fmt.Errorf("window %s: partials were made under another cohort spec: %w", r.WindowStart.Format(time.RFC3339), err)
		}
		start := r.WindowStart.UnixMilli()
		out[start] = append(out[start], cohorts.Partial{Key: k, ID: r.CohortID, Users: r.Users, Events: r.Events, Values: r.Values})
	}
	return out, nil
}

func (s PublishStore) Ledger(ctx context.Context, from, to time.Time) ([]publish.LedgerEntry, error) {
	rows, err := s.c.Ledger(ctx, from, to)
	if err != nil {
		return nil, err
	}
	out := make([]publish.LedgerEntry, len(rows))
	for i, r := range rows {
		out[i] = publish.LedgerEntry{
			Window:  cohorts.Window{Start: r.WindowStart.UnixMilli(), End: r.WindowEnd.UnixMilli()},
			Release: r.Release, Epsilon: r.Epsilon, Rho: r.Rho, Delta: r.Delta, ReleaseDelta: r.ReleaseDelta, Bounds: r.Bounds,
			SpecHash: r.SpecHash, CodeVersion: r.CodeVersion, InputDigest: r.InputDigest, KeyID: r.KeyID,
			RowsPublished: int(r.RowsPublished), RowsSuppressed: int(r.RowsSuppressed),
			Republish: r.Republish, EpsilonSpent: r.EpsilonSpent, RhoSpent: r.RhoSpent, Noise: r.Noise, Mode: r.Mode,
			LeaseToken: r.LeaseToken, ReleasedAt: r.ReleasedAt,
		}
	}
	return out, nil
}

func (s PublishStore) AppendLedger(ctx context.Context, e publish.LedgerEntry) error {
	return s.c.AppendLedger(ctx, LedgerRow{
		WindowStart: time.UnixMilli(e.Window.Start).UTC(), WindowEnd: time.UnixMilli(e.Window.End).UTC(),
		Release: e.Release, Epsilon: e.Epsilon, Rho: e.Rho, Delta: e.Delta, ReleaseDelta: e.ReleaseDelta, Bounds: e.Bounds,
		SpecHash: e.SpecHash, CodeVersion: e.CodeVersion, InputDigest: e.InputDigest, KeyID: e.KeyID,
		RowsPublished: uint64(e.RowsPublished), RowsSuppressed: uint64(e.RowsSuppressed),
		Republish: e.Republish, EpsilonSpent: e.EpsilonSpent, RhoSpent: e.RhoSpent, Noise: e.Noise, Mode: e.Mode,
		LeaseToken: e.LeaseToken, ReleasedAt: e.ReleasedAt,
	})
}

// WriteNoise records the sigma of every slot of a release in
// feature_noise, the users count at UsersIndex.
func (s PublishStore) WriteNoise(ctx context.Context, release string, featureSet int, slots []publish.SlotNoise) error {
	rows := make([]FeatureNoise, len(slots))
	for i, n := range slots {
		index := uint32(n.Slot)
		if n.Slot < 0 {
			index = UsersIndex
		}
		rows[i] = FeatureNoise{Release: release, FeatureSet: uint16(featureSet), Index: index, Name: n.Name, Sigma: n.Sigma}
	}
	return s.c.WriteFeatureNoise(ctx, rows)
}

func (s PublishStore) PublishedCohorts(ctx context.Context, w cohorts.Window) ([]uint64, error) {
	return s.c.PublishedCohorts(ctx, time.UnixMilli(w.Start).UTC())
}

func (s PublishStore) WriteRows(ctx context.Context, lease publish.Lease, w cohorts.Window, rows []publish.Row, release string, at time.Time, replace bool) error {
	out := make([]EnrichmentRow, len(rows))
	start, end := time.UnixMilli(w.Start).UTC(), time.UnixMilli(w.End).UTC()
	for i, r := range rows {
		out[i] = EnrichmentRow{
			WindowStart: start, WindowEnd: end,
			CohortID: r.ID, CohortKey: r.Key.String(), Level: r.Key.Level().String(),
			Users: r.Users, Features: r.Features, FeatureSet: uint16(r.FeatureSet),
			Release: release, PublishedAt: at,
		}
	}
	var fence Fence // nil unless a lease is held
	if lease != nil {
		fence = lease
	}
	var err error
	if replace {
		err = s.c.ReplaceEnrichmentWindow(ctx, start, end, out, fence)
	} else {
		err = s.c.WriteEnrichment(ctx, out)
	}
	if err != nil {
		return err
	}
	// Then the lookup table (latest.go): the rows, and after a replace the
	// cohorts it dropped. A failure here leaves the window published and
	// the lookup table behind; the next session's RepairLatest catches up.
	if err := s.c.WriteLatest(ctx, out); err != nil {
		return fmt.Errorf("the rows are published; %w (the next publish brings it up to date)", err)
	}
	if replace {
		if _, err := s.c.SyncLatest(ctx, start, at, fence); err != nil {
			return fmt.Errorf("the rows are published; %w (the next publish brings it up to date)", err)
		}
	}
	return nil
}

// RepairLatest brings cohort_latest up to date with the newest release
// after a crash between its two writes (Client.RepairLatest).
func (s PublishStore) RepairLatest(ctx context.Context, lease publish.Lease) error {
	var fence Fence
	if lease != nil {
		fence = lease
	}
	_, err := s.c.RepairLatest(ctx, fence)
	return err
}

// FeatureDictionary is feature sets 1 and 2 as feature_dictionary rows:
// old releases stay readable next to new ones.
func FeatureDictionary() []DictionaryEntry {
	var out []DictionaryEntry
	for _, n := range []int{cohorts.FeatureSetV1Version, cohorts.FeatureSetV2Version} {
		for _, f := range cohorts.MustFeatureSet(n).Features {
			out = append(out, DictionaryEntry{
				FeatureSet: uint16(n), Index: uint32(f.Index),
				Name: f.Name, Description: f.Description, Unit: f.Unit,
			})
		}
	}
	return out
}
