package clickhouse

import (
	"context"
	"fmt"
)

// DropDatabases drops the internal and the published database with
// everything in them. Only the demo calls it, on databases of its own, to
// start from nothing; a deployment never does.
func (c *Client) DropDatabases(ctx context.Context) error {
	for _, db := range []string{c.cfg.Database, c.cfg.PublishedDatabase} {
		if err := c.exec(ctx, "DROP DATABASE IF EXISTS "+db+c.onCluster()); err != nil {
			return fmt.Errorf("dropping database %s at %s: %w", db, c.addrs(), err)
		}
	}
	return nil
}
