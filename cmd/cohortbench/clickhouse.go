package main

import (
	"context"
	"fmt"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// chClient is the benchmark's own ClickHouse connection: DDL for stage
// (c), counts, cleanup.
type chClient struct {
	conn driver.Conn
}

func openClickHouse(ctx context.Context, addr string) (*chClient, error) {
	conn, err := ch.Open(&ch.Options{Addr: []string{addr}, Protocol: ch.Native})
	if err != nil {
		return nil, fmt.Errorf("connecting to ClickHouse at %s: %w", addr, err)
	}
	if err := conn.Ping(ctx); err != nil {
		conn.Close()
		return nil, fmt.Errorf("connecting to ClickHouse at %s: %w", addr, err)
	}
	return &chClient{conn: conn}, nil
}

func (c *chClient) Close() error { return c.conn.Close() }

func (c *chClient) exec(ctx context.Context, stmt string) error {
	if err := c.conn.Exec(ctx, stmt); err != nil {
		return fmt.Errorf("ClickHouse: %s: %w", stmt, err)
	}
	return nil
}

func (c *chClient) dropDatabases(ctx context.Context, dbs ...string) error {
	for _, db := range dbs {
		if err := c.exec(ctx, "DROP DATABASE IF EXISTS "+db); err != nil {
			return err
		}
	}
	return nil
}

// partials sums up db's cohort_partials.
func (c *chClient) partials(ctx context.Context, db string) (partialStats, error) {
	var s partialStats
	row := c.conn.QueryRow(ctx, `SELECT count(), toUInt64(count() - uniqExact(window_start, topic, partition, cohort_id)),
		uniqExact(window_start), sum(users), sum(events) FROM `+db+`.cohort_partials`)
	if err := row.Scan(&s.Rows, &s.Duplicates, &s.Windows, &s.Users, &s.Events); err != nil {
		return partialStats{}, fmt.Errorf("reading %s.cohort_partials: %w", db, err)
	}
	return s, nil
}

// sumEvents returns sum(events) of table, 0 when it is empty.
func (c *chClient) sumEvents(ctx context.Context, table string) (uint64, error) {
	var n uint64
	if err := c.conn.QueryRow(ctx, "SELECT sum(events) FROM "+table).Scan(&n); err != nil {
		return 0, fmt.Errorf("counting the events in %s: %w", table, err)
	}
	return n, nil
}
