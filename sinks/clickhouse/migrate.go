package clickhouse

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/cohortline/cohortline/schemas"
)

// Migrate creates the databases and the schema_migrations table if they are
// missing, then applies the numbered migrations of schemas/ddl that
// schema_migrations does not list, in version order, recording each after
// its last statement succeeded. It returns the names of the files it
// applied: none when the schema is up to date.
//
// It refuses to go on when an applied migration's file has changed since
// (migrations are append-only: add a file instead), or when the database
// has a migration this build does not know (a newer cohortline migrated
// it). Two migrates at once are harmless (every statement is IF NOT
// EXISTS, or adds a column only where it is missing: see apply), but may
// record a version twice; readers of schema_migrations take distinct
// versions.
func (c *Client) Migrate(ctx context.Context) (applied []string, err error) {
	ddl, err := schemas.RenderDDL(c.cfg.ddlOptions())
	if err != nil {
		return nil, err
	}
	for _, stmt := range ddl.Bootstrap.Statements {
		if err := c.exec(ctx, stmt); err != nil {
			return nil, fmt.Errorf("migrating: creating databases on %s: %w", c.addrs(), err)
		}
	}
	done, err := c.appliedMigrations(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkApplied(done, ddl.Migrations); err != nil {
		return nil, err
	}
	for _, m := range ddl.Migrations {
		if _, ok := done[m.Version]; ok {
			continue
		}
		for i, stmt := range m.Statements {
			if err := c.apply(ctx, stmt); err != nil {
				return applied, fmt.Errorf("applying %s (statement %d of %d): %w", m.Name, i+1, len(m.Statements), err)
			}
		}
		if err := c.recordMigration(ctx, m); err != nil {
			return applied, fmt.Errorf("recording %s in schema_migrations: %w", m.Name, err)
		}
		applied = append(applied, m.Name)
	}
	if err := c.completePublished(ctx, ddl.Migrations); err != nil {
		return applied, err
	}
	return applied, nil
}

// completePublished creates the published tables in a published database
// that was configured after the internal database was migrated (for
// example a second published database for a spec with another k over the
// same partials): schema_migrations lives in the internal database, so it
// says those migrations are applied while the new database is empty. Every
// statement is idempotent, so the migrations' statements on the published
// database are run again.
func (c *Client) completePublished(ctx context.Context, migrations []schemas.Migration) error {
	q := "SELECT count() FROM system.tables WHERE database = ? AND name = ?"
	var n uint64
	err := retry(ctx, c.cfg.Retry, func(ctx context.Context) error {
		return c.conn.QueryRow(ctx, q, c.cfg.PublishedDatabase, c.localName("cohort_enrichment")).Scan(&n)
	})
	if err != nil {
		return fmt.Errorf("checking the tables of %s: %w", c.cfg.PublishedDatabase, err)
	}
	if n > 0 {
		return nil
	}
	prefix := c.cfg.PublishedDatabase + "."
	for _, m := range migrations {
		for i, stmt := range m.Statements {
			if !strings.Contains(stmt, prefix) {
				continue
			}
			if err := c.apply(ctx, stmt); err != nil {
				return fmt.Errorf("creating the published tables of %s in %s (statement %d of %d): %w", m.Name, c.cfg.PublishedDatabase, i+1, len(m.Statements), err)
			}
		}
	}
	return nil
}

// checkApplied compares what the database says was applied with the files.
func checkApplied(done map[int]string, files []schemas.Migration) error {
	known := map[int]bool{}
	for _, m := range files {
		known[m.Version] = true
		if sum, ok := done[m.Version]; ok && sum != m.Checksum {
			return fmt.Errorf("migration %s was applied with checksum %.12s… but the file now has %.12s…: applied migrations must not change; add a new numbered file instead", m.Name, sum, m.Checksum)
		}
	}
	var unknown []int
	for v := range done {
		if !known[v] {
			unknown = append(unknown, v)
		}
	}
	if len(unknown) > 0 {
		sort.Ints(unknown)
		return fmt.Errorf("the database has migrations %v that this cohortline does not know: a newer version migrated it", unknown)
	}
	return nil
}

// appliedMigrations returns version → checksum from schema_migrations.
func (c *Client) appliedMigrations(ctx context.Context) (map[int]string, error) {
	q := "SELECT version, any(checksum) FROM " + c.cfg.Database + ".schema_migrations GROUP BY version"
	sums, err := queryPairs[uint32, string](ctx, c, q)
	done := make(map[int]string, len(sums))
	for v, sum := range sums {
		done[int(v)] = sum
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s.schema_migrations: %w", c.cfg.Database, err)
	}
	return done, nil
}

func (c *Client) recordMigration(ctx context.Context, m schemas.Migration) error {
	insert := "INSERT INTO " + c.cfg.Database + ".schema_migrations (version, name, checksum, applied_at)"
	return retry(ctx, c.cfg.Retry, func(ctx context.Context) error {
		batch, err := c.conn.PrepareBatch(ctx, insert)
		if err != nil {
			return err
		}
		defer batch.Close()
		if err := batch.Append(uint32(m.Version), m.Name, m.Checksum, c.now()); err != nil {
			return err
		}
		return batch.Send()
	})
}

// exec runs one DDL statement, retrying retryable failures. DDL is safe to
// repeat here: every statement is IF NOT EXISTS, or goes through apply.
func (c *Client) exec(ctx context.Context, stmt string) error {
	return retry(ctx, c.cfg.Retry, func(ctx context.Context) error { return c.conn.Exec(ctx, stmt) })
}

// apply runs one statement of a numbered migration. ClickHouse 18.16 has
// no ADD COLUMN IF NOT EXISTS, so a statement adding a column
// (schemas.AddedColumn) is skipped when the table has the column already:
// a migration that failed half-way, or a migrate running at the same
// time, added it. If it fails, it still counts as done when the column
// is there now (the other migrate won the race).
//
// In cluster mode the check reads this node's system.columns: the tables
// that migrations alter are replicated to every node, and a replicated
// ALTER reaches every replica.
func (c *Client) apply(ctx context.Context, stmt string) error {
	db, table, column, ok := schemas.AddedColumn(stmt)
	if !ok {
		return c.exec(ctx, stmt)
	}
	has, err := c.hasColumn(ctx, db, table, column)
	if err != nil || has {
		return err
	}
	if err := c.exec(ctx, stmt); err != nil {
		if has, cerr := c.hasColumn(ctx, db, table, column); cerr == nil && has {
			return nil
		}
		return err
	}
	return nil
}

// HasMigrated reports whether migrate has ever run on the internal
// database: it has schema_migrations. Readers that must not create what
// they read (publish) check it first, so that a wrong database name is an
// error rather than two new, empty databases.
func (c *Client) HasMigrated(ctx context.Context) (bool, error) {
	q := "SELECT count() FROM system.tables WHERE database = ? AND name = 'schema_migrations'"
	var n uint64
	err := retry(ctx, c.cfg.Retry, func(ctx context.Context) error {
		return c.conn.QueryRow(ctx, q, c.cfg.Database).Scan(&n)
	})
	if err != nil {
		return false, fmt.Errorf("looking for %s.schema_migrations on %s: %w", c.cfg.Database, c.addrs(), err)
	}
	return n > 0, nil
}

// hasColumn reports whether db.table has the column.
func (c *Client) hasColumn(ctx context.Context, db, table, column string) (bool, error) {
	q := "SELECT count() FROM system.columns WHERE database = ? AND table = ? AND name = ?"
	var n uint64
	err := retry(ctx, c.cfg.Retry, func(ctx context.Context) error {
		return c.conn.QueryRow(ctx, q, db, table, column).Scan(&n)
	})
	if err != nil {
		return false, fmt.Errorf("looking for column %s of %s.%s: %w", column, db, table, err)
	}
	return n > 0, nil
}
