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
	BlockSize int   // kafka_max_block_size; 0: ClickHouse's default
	Expected  int64 // rows the engine should count: see report.Expected
	Counted   int64 // sum(events) once it stopped growing
	// Wall is from CREATE MATERIALIZED VIEW (the engine starts reading
	// then) to the last change of sum(events).
	Wall time.Duration
	// Stalled: the count stopped growing below Expected for the stall
	// time: rows were lost, or the engine stopped.
	Stalled bool
	// ClickHouse and Kafka are the servers' usage over Wall.
	ClickHouse, Kafka usage
	// Duplicated and Lost compare the counts key by key with what the
	// topic holds (keyCounts): events counted more than once, events not
	// counted.
	Duplicated, Lost int64
	LostKeys         []string // a few keys that lost events, with how many
}

func (r engineResult) config() engineConfig {
	return engineConfig{Consumers: r.Consumers, BlockSize: r.BlockSize}
}

// exact reports whether the engine counted every event exactly once.
func (r engineResult) exact() bool { return r.Duplicated == 0 && r.Lost == 0 }

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
  kafka_num_consumers = {consumers}{block_size}`

// engineView starts the engine: the Kafka engine reads only while a
// materialized view is attached to it.
const engineView = `
CREATE MATERIALIZED VIEW {db}.count_by_cohort TO {db}.events_by_cohort AS
SELECT concat(visitParamExtractString(line, 'country'), '|', visitParamExtractString(line, 'lang'), '|',
  visitParamExtractString(line, 'age'), '|', visitParamExtractString(line, 'platform')) AS cohort_key,
  count() AS events
FROM {db}.activity_queue GROUP BY cohort_key`

// engineConfig is one stage (c) run's Kafka table settings.
type engineConfig struct {
	Consumers int // kafka_num_consumers
	BlockSize int // kafka_max_block_size; 0 leaves it out
}

func (c engineConfig) String() string {
	s := fmt.Sprintf("%d consumer", c.Consumers)
	if c.Consumers > 1 {
		s += "s"
	}
	if c.BlockSize > 0 {
		s += fmt.Sprintf(", kafka_max_block_size %d", c.BlockSize)
	}
	return s
}

// engineConfigs are the stage (c) runs of opts: one per consumer count with
// ClickHouse's defaults, then one consumer with a bigger block if asked.
func engineConfigs(opts options) []engineConfig {
	var out []engineConfig
	if opts.KafkaConfig != "" {
		return nil // the engine's Kafka client is ClickHouse's: not secured by --kafka-config
	}
	for _, n := range opts.EngineConsumers {
		out = append(out, engineConfig{Consumers: n})
	}
	if opts.EngineBlockSize > 0 {
		out = append(out, engineConfig{Consumers: 1, BlockSize: opts.EngineBlockSize})
	}
	return out
}

// runEngine runs stage (c) with cfg over topic.
func (b *bench) runEngine(ctx context.Context, topic string, ranges []partitionRange, want *keyCounts, expected int64, cfg engineConfig) (engineResult, error) {
	name := b.name(fmt.Sprintf("engine-%d-%d", cfg.Consumers, cfg.BlockSize))
	db := strings.ReplaceAll(name, "-", "_")
	blockSize := ""
	if cfg.BlockSize > 0 {
		blockSize = fmt.Sprintf(", kafka_max_block_size = %d", cfg.BlockSize)
	}
	r := strings.NewReplacer("{db}", db, "{broker}", b.opts.Kafka, "{topic}", topic,
		"{group}", name, "{consumers}", fmt.Sprint(cfg.Consumers), "{block_size}", blockSize)
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
	res := engineResult{Consumers: cfg.Consumers, BlockSize: cfg.BlockSize, Expected: expected}
	began := b.mark()
	if err := b.ch.exec(ctx, r.Replace(engineView)); err != nil {
		return engineResult{}, err
	}
	last, err := b.waitEngine(ctx, db+".events_by_cohort", &res)
	if err != nil {
		return engineResult{}, fmt.Errorf("waiting for the Kafka engine with %s: %w", cfg, err)
	}
	res.Wall = last.Sub(began)
	res.ClickHouse, res.Kafka = b.serverUsage(began, last)
	got, err := b.ch.countsByKey(ctx, db+".events_by_cohort")
	if err != nil {
		return engineResult{}, err
	}
	res.Duplicated, res.Lost, res.LostKeys = want.diff(got)
	// Stop reading now rather than at cleanup: the next stage runs on the
	// same server.
	if err := b.ch.exec(ctx, "DROP TABLE "+db+".count_by_cohort"); err != nil {
		return engineResult{}, err
	}
	return res, nil
}

// waitEngine polls sum(events) of table until it has not changed for the
// settle time after reaching res.Expected, or for the stall time in any
// case. It sets res.Counted and returns when the count last changed.
//
// The engine's committed offsets are no sign of the end: 18.16 commits a
// block's offsets before its rows show in the view's table (seen with
// kafka_max_block_size 1048576: the topic's end committed, the count still
// 0 seconds later).
func (b *bench) waitEngine(ctx context.Context, table string, res *engineResult) (time.Time, error) {
	ctx, cancel := context.WithTimeout(ctx, b.opts.StageTimeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	lastChange := time.Now()
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
		quiet := now.Sub(lastChange)
		switch {
		case res.Counted >= res.Expected && quiet >= b.opts.Settle:
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
