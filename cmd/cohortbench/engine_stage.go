package main

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// engineResult is stage (c): ClickHouse's Kafka table engine and a
// materialized view counting the topic's events by cohort key into a
// SummingMergeTree.
type engineResult struct {
	Consumers int   // kafka_num_consumers
	Expected  int64 // rows the engine should count: see bench.expected
	Counted   int64 // sum(events) once it stopped growing
	// Wall is from CREATE MATERIALIZED VIEW (the engine starts reading
	// then) to the last change of sum(events).
	Wall time.Duration
	// Stalled: the count stopped growing below Expected for the stall
	// time, and the engine had not committed the topic's end.
	Stalled bool
	// ClickHouse and Kafka are the servers' usage over Wall.
	ClickHouse, Kafka usage
}

// Duplicates is how many more events the engine counted than there are:
// rows inserted twice. Negative means rows were lost.
func (r engineResult) Duplicates() int64 { return r.Counted - r.Expected }

// engineDDL is stage (c)'s tables on ClickHouse 18.16, whose Kafka engine
// has no kafka_skip_broken_messages and whose JSON functions are the
// visitParam* family (JSONExtract* came in 19.x). Each message is one TSV
// row of a single String column, so a malformed JSON record is still a row
// (with empty attributes) and never stops the engine; kafka_row_delimiter
// ends each message's row (without it, 18.16 runs messages together).
const engineDDL = `
CREATE TABLE {db}.events_by_cohort (cohort_key String, events UInt64)
ENGINE = SummingMergeTree() ORDER BY cohort_key;

CREATE TABLE {db}.activity_queue (line String)
ENGINE = Kafka SETTINGS kafka_broker_list = '{broker}', kafka_topic_list = '{topic}',
  kafka_group_name = '{group}', kafka_format = 'TSV', kafka_row_delimiter = '\n',
  kafka_num_consumers = {consumers}`

// engineView starts the engine: the Kafka engine reads only while a
// materialized view is attached to it.
const engineView = `
CREATE MATERIALIZED VIEW {db}.count_by_cohort TO {db}.events_by_cohort AS
SELECT concat(visitParamExtractString(line, 'country'), '|', visitParamExtractString(line, 'lang'), '|',
  visitParamExtractString(line, 'age'), '|', visitParamExtractString(line, 'platform')) AS cohort_key,
  count() AS events
FROM {db}.activity_queue GROUP BY cohort_key`

// runEngine runs stage (c) with consumers consumers over topic.
func (b *bench) runEngine(ctx context.Context, topic string, ranges []partitionRange, expected int64, consumers int) (engineResult, error) {
	name := b.name(fmt.Sprintf("engine-%d", consumers))
	db := strings.ReplaceAll(name, "-", "_")
	r := strings.NewReplacer("{db}", db, "{broker}", b.opts.Kafka, "{topic}", topic,
		"{group}", name, "{consumers}", fmt.Sprint(consumers))
	b.cleanup(func(ctx context.Context) error { return b.kafka.deleteGroup(ctx, name) })
	b.cleanup(func(ctx context.Context) error { return b.ch.dropDatabases(ctx, db) })
	// The engine's consumers join the group when its table is created: the
	// start offsets go in before, while the group has no members.
	if err := b.kafka.commitStart(ctx, name, topic, ranges); err != nil {
		return engineResult{}, err
	}
	if err := b.ch.exec(ctx, "CREATE DATABASE "+db); err != nil {
		return engineResult{}, err
	}
	// Dropping the view first stops the reading; the database then goes.
	b.cleanup(func(ctx context.Context) error {
		return b.ch.exec(ctx, "DROP TABLE IF EXISTS "+db+".count_by_cohort")
	})
	for _, stmt := range strings.Split(r.Replace(engineDDL), ";") {
		if err := b.ch.exec(ctx, stmt); err != nil {
			return engineResult{}, err
		}
	}
	res := engineResult{Consumers: consumers, Expected: expected}
	began := b.mark()
	if err := b.ch.exec(ctx, r.Replace(engineView)); err != nil {
		return engineResult{}, err
	}
	last, err := b.waitEngine(ctx, db+".events_by_cohort", name, topic, ranges, &res)
	if err != nil {
		return engineResult{}, fmt.Errorf("waiting for the Kafka engine with %d consumers: %w", consumers, err)
	}
	res.Wall = last.Sub(began)
	res.ClickHouse, res.Kafka = b.serverUsage(began, last)
	// Stop reading now rather than at cleanup: the next stage runs on the
	// same server.
	if err := b.ch.exec(ctx, "DROP TABLE "+db+".count_by_cohort"); err != nil {
		return engineResult{}, err
	}
	return res, nil
}

// waitEngine polls sum(events) of table until it has not changed for the
// settle time after reaching res.Expected (or after the engine committed
// the topic's end), or for the stall time in any case. It sets
// res.Counted and returns when the count last changed.
func (b *bench) waitEngine(ctx context.Context, table, group, topic string, ranges []partitionRange, res *engineResult) (time.Time, error) {
	ctx, cancel := context.WithTimeout(ctx, b.opts.StageTimeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	lastChange, committed := time.Now(), false
	var lastCheck time.Time
	for {
		select {
		case <-ctx.Done():
			return time.Time{}, fmt.Errorf("after %s with %d of %d events counted: %w", b.opts.StageTimeout, res.Counted, res.Expected, ctx.Err())
		case <-tick.C:
		}
		n, err := b.ch.sumEvents(ctx, table)
		if err != nil {
			return time.Time{}, err
		}
		now := time.Now()
		if int64(n) != res.Counted {
			res.Counted, lastChange = int64(n), now
		}
		if !committed && now.Sub(lastCheck) >= time.Second {
			lastCheck = now
			if committed, err = b.kafka.committedAll(ctx, group, topic, ranges); err != nil {
				return time.Time{}, err
			}
		}
		quiet := now.Sub(lastChange)
		switch {
		case (res.Counted >= res.Expected || committed) && quiet >= b.opts.Settle:
			return lastChange, nil
		case quiet >= b.opts.Stall:
			if res.Counted == 0 {
				return time.Time{}, fmt.Errorf("the engine counted nothing in %s (see the server's log)", b.opts.Stall)
			}
			res.Stalled = true
			return lastChange, nil
		}
	}
}
