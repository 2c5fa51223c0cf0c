package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// latestShard is where cohort_latest's rows of some cohorts live, with the
// cohort_enrichment rows they derive from: the tables themselves on a
// single server; in cluster mode one shard's _local tables, on one of its
// replicas (cohort_latest and cohort_enrichment are both sharded by
// cohort_id, so a shard derives its own cohorts from its own rows).
type latestShard struct {
	c          *Client
	own        bool   // c is a shard's client, closed with the shard
	replicated bool   // catch up with the peer replica before reading
	where      string // "" or " on shard 2 (…)", for errors
	latest     string
	enrichment string
	releases   string // published_releases: on every node in cluster mode
	engine     string // "" (AS latest) or the ENGINE clause of a staging table beside a replica
}

// latestStagingEngine is cohort_latest's engine, order and granularity
// (DDL 0015) without replication, for a staging table beside a
// replicated table (see stagingEngine).
const latestStagingEngine = " ENGINE = ReplacingMergeTree(version) ORDER BY cohort_id SETTINGS index_granularity = 256"

func (c *Client) latestShards(ctx context.Context) ([]*latestShard, error) {
	pub := c.cfg.PublishedDatabase
	if c.cfg.Cluster == "" {
		return []*latestShard{{c: c, latest: pub + ".cohort_latest", enrichment: pub + ".cohort_enrichment", releases: pub + ".published_releases"}}, nil
	}
	shards, err := c.clusterShards(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*latestShard, 0, len(shards))
	for _, sh := range shards {
		sc, where, err := c.shardClient(sh)
		if err != nil {
			closeLatestShards(out)
			return nil, err
		}
		out = append(out, &latestShard{
			c: sc, own: true, replicated: true, where: where,
			latest: pub + ".cohort_latest_local", enrichment: pub + ".cohort_enrichment_local", releases: pub + ".published_releases",
			engine: latestStagingEngine,
		})
	}
	return out, nil
}

func closeLatestShards(shards []*latestShard) {
	for _, s := range shards {
		if s.own {
			s.c.Close()
		}
	}
}

// catchUp makes the shard's replica hold every part its peers
// acknowledged, of both tables, before it reads them (replicas.go).
func (s *latestShard) catchUp(ctx context.Context) error {
	if !s.replicated {
		return nil
	}
	for _, t := range []string{s.latest, s.enrichment} {
		if err := s.c.syncReplica(ctx, s.c, t); err != nil {
			return fmt.Errorf("%s: %w", strings.TrimPrefix(s.where, " "), err)
		}
	}
	return nil
}

// fillMissing copies the rows of the publish at p (epoch seconds) of the
// window at w that cohort_latest has nothing as new for, and returns how
// many there were.
func (s *latestShard) fillMissing(ctx context.Context, w, p string, version uint64) (int, error) {
	from := " FROM " + s.enrichment + " WHERE window_start = toDateTime(" + w + ") AND published_at = toDateTime(" + p + ")" +
		" AND (window_start, release, published_at) IN (SELECT window_start, release, published_at FROM " + s.releases + ")" +
		" AND cohort_id NOT IN (SELECT cohort_id FROM " + s.latest + " WHERE version >= " + strconv.FormatUint(version, 10) + ")"
	n, err := queryValues[uint64](ctx, s.c, "SELECT count()"+from)
	if err != nil {
		return 0, fmt.Errorf("counting the rows missing from %s%s: %w", s.latest, s.where, err)
	}
	if len(n) != 1 || n[0] == 0 {
		return 0, nil
	}
	cols := strings.Replace(latestColumns, ", version", ", "+strconv.FormatUint(version, 10), 1)
	if err := s.c.exec(ctx, "INSERT INTO "+s.latest+" ("+latestColumns+") SELECT "+cols+from); err != nil {
		return 0, fmt.Errorf("copying %d missing rows into %s%s: %w", n[0], s.latest, s.where, err)
	}
	return int(n[0]), nil
}

// rebuild gives every cohort of the subquery stale (of cohort ids, read
// on this shard) its row derived from cohort_enrichment again, or no row,
// and leaves every other row as it is: the rows are built in a staging
// table (cohort_latest's rows of the other cohorts, as they are, then the
// derived ones), which then replaces cohort_latest's one partition at
// once (or empties it when staging is empty: current releases refuse an
// empty source, as for cohort_enrichment). Versions only grow, so a
// cohort's older window cannot be upserted over its dropped newer one;
// the swap is how it goes back. Nothing happens when stale is empty. It
// assumes a single writer (the publish lease, checked by fence right
// before the swap): a row written to cohort_latest meanwhile would be
// lost in the swap, and the next publish session's RepairLatest puts
// back one of the newest release only. It returns how many cohorts were
// stale.
func (s *latestShard) rebuild(ctx context.Context, stale string, fence Fence) (n int, err error) {
	count, err := queryValues[uint64](ctx, s.c, "SELECT count() FROM ("+stale+")")
	if err != nil {
		return 0, fmt.Errorf("counting the stale rows of %s%s: %w", s.latest, s.where, err)
	}
	if len(count) != 1 || count[0] == 0 {
		return 0, nil
	}
	staging := fmt.Sprintf("%s.cohort_latest_rebuild_%016x", s.c.cfg.PublishedDatabase, rand.Uint64())
	defer func() {
		cleanup, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if derr := s.c.exec(cleanup, "DROP TABLE IF EXISTS "+staging); derr != nil {
			err = errors.Join(err, fmt.Errorf("dropping %s%s: %w", staging, s.where, derr))
		}
	}()
	if err := s.c.exec(ctx, "CREATE TABLE IF NOT EXISTS "+staging+" AS "+s.latest+s.engine); err != nil {
		return 0, fmt.Errorf("creating %s%s: %w", staging, s.where, err)
	}
	keep := "INSERT INTO " + staging + " (" + latestColumns + ") SELECT " + latestColumns + " FROM " + s.latest + " WHERE cohort_id NOT IN (" + stale + ")"
	derive := "INSERT INTO " + staging + " (" + latestColumns + ") " + latestDerived(s.enrichment, s.releases, stale)
	err = retry(ctx, s.c.cfg.Retry, func(ctx context.Context) error {
		for _, stmt := range []string{"TRUNCATE TABLE " + staging, keep, derive} {
			if err := s.c.conn.Exec(ctx, stmt); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("rebuilding %s in %s%s: %w", s.latest, staging, s.where, err)
	}
	swap := "ALTER TABLE " + s.latest + " REPLACE PARTITION tuple() FROM " + staging
	if rows, err := queryValues[uint64](ctx, s.c, "SELECT count() FROM "+staging); err != nil {
		return 0, fmt.Errorf("counting the rows of %s%s: %w", staging, s.where, err)
	} else if len(rows) == 1 && rows[0] == 0 {
		swap = "ALTER TABLE " + s.latest + " DROP PARTITION tuple()"
	}
	if fence != nil {
		if err := fence.Check(ctx); err != nil {
			return 0, fmt.Errorf("stopped before swapping %s in%s: %w", s.latest, s.where, err)
		}
	}
	if err := s.c.exec(ctx, swap); err != nil {
		return 0, fmt.Errorf("swapping %s in from %s%s: %w", s.latest, staging, s.where, err)
	}
	return int(count[0]), nil
}

// dropLatestBefore is retention's step on cohort_latest: the rows of
// cohorts whose newest window is on a day before cutoff (YYYYMMDD, as the
// partition ids of the dropped days, in the server's time zone) go, for
// every window of theirs is dropped with those days; with drop false it
// only counts them. When there are some, it takes the publish lease for
// the swap, as publish rebuilds the same table.
func (c *Client) dropLatestBefore(ctx context.Context, cutoff string, drop bool) (n int, err error) {
	shards, err := c.latestShards(ctx)
	if err != nil {
		return 0, err
	}
	defer closeLatestShards(shards)
	stale := func(s *latestShard) string {
		return "SELECT cohort_id FROM (SELECT cohort_id, argMax(window_start, version) AS newest_window FROM " + s.latest +
			" GROUP BY cohort_id) WHERE toYYYYMMDD(newest_window) < " + cutoff
	}
	for _, s := range shards {
		if err := s.catchUp(ctx); err != nil {
			return 0, err
		}
		count, err := queryValues[uint64](ctx, s.c, "SELECT count() FROM ("+stale(s)+")")
		if err != nil {
			return 0, fmt.Errorf("counting the rows of %s%s before %s: %w", s.latest, s.where, cutoff, err)
		}
		if len(count) == 1 {
			n += int(count[0])
		}
	}
	if !drop || n == 0 {
		return n, nil
	}
	lease, err := c.AcquireLease(ctx, LeaseConfig{Holder: LeaseHolder("retention"), Wait: DefaultLeaseTTL})
	if err != nil {
		return 0, fmt.Errorf("taking the publish lease to drop %d rows of %s.cohort_latest: %w", n, c.cfg.PublishedDatabase, err)
	}
	defer func() { err = errors.Join(err, lease.Release(ctx)) }()
	n = 0
	for _, s := range shards {
		m, err := s.rebuild(ctx, stale(s), lease)
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
