package main

import (
	"context"
	"time"

	"github.com/apache/arrow/go/v15/arrow"

	"github.com/cohortline/cohortline/pipeline"
	"github.com/cohortline/cohortline/sinks/clickhouse"
)

// clickhouseSink adapts the ClickHouse writer to pipeline.Sink: sinks do not
// import the pipeline, so the two flush descriptions meet here.
type clickhouseSink struct{ client *clickhouse.Client }

func (s clickhouseSink) WritePartials(ctx context.Context, rec arrow.Record, f pipeline.Flush) error {
	return s.client.Writer().WritePartials(ctx, rec, progressOf(f))
}

// progressOf is the sink's description of a flush.
func progressOf(f pipeline.Flush) clickhouse.Progress {
	return clickhouse.Progress{
		WindowStart: time.UnixMilli(f.WindowStart).UTC(), WindowEnd: time.UnixMilli(f.WindowEnd).UTC(),
		Topic: f.Topic, Partition: int32(f.Partition), FlushVersion: f.Version,
		Rows: int64(f.Rows), FirstOffset: f.FirstOffset, LastOffset: f.LastOffset,
		Watermark: time.UnixMilli(f.Watermark).UTC(),
	}
}

// clickhouseBackfillSink writes a backfill's partials, invisible until the
// backfill commits its window_progress rows.
type clickhouseBackfillSink struct{ writer *clickhouse.Writer }

func (s clickhouseBackfillSink) WritePartials(ctx context.Context, rec arrow.Record, f pipeline.Flush) error {
	_, err := s.writer.WriteBackfillPartials(ctx, rec, progressOf(f))
	return err
}

func (s clickhouseSink) LastFlush(ctx context.Context, topic string, partition int) (pipeline.Flush, bool, error) {
	p, ok, err := s.client.LastProgress(ctx, topic, int32(partition))
	if err != nil || !ok {
		return pipeline.Flush{}, ok, err
	}
	return pipeline.Flush{
		WindowStart: p.WindowStart.UnixMilli(), WindowEnd: p.WindowEnd.UnixMilli(),
		Topic: p.Topic, Partition: int(p.Partition), Version: p.FlushVersion,
		Rows: int(p.Rows), FirstOffset: p.FirstOffset, LastOffset: p.LastOffset,
		Watermark: p.Watermark.UnixMilli(),
	}, true, nil
}
