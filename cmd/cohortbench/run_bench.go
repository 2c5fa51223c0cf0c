package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"
)

// report is every figure of one benchmark run.
type report struct {
	ID     string // prefix of every topic, group and database the run created
	Events int64
	Users  int
	Gen    time.Duration // cohortline gen into the topic, topic creation included

	// Stage (a): the same topic read twice, with the process's CPU.
	Reader, Batch       readResult
	ReaderCPU, BatchCPU time.Duration // this process
	ReaderKafka         usage
	BatchKafka          usage
	// BackgroundClickHouse is ClickHouse's CPU during both raw reads,
	// where it has no part: the load other clients put on it.
	BackgroundClickHouse time.Duration
	// Expected is the messages the Kafka engine must count: those that are
	// one TSV field as they are (no tab, line break or backslash); TSVUnsafe
	// the others (none in generated data).
	Expected, TSVUnsafe int64
	keys                *keyCounts // the messages by the cohort key (c) gives them

	Run     runResult      // stage (b)
	Engines []engineResult // stage (c), one per consumer count
	Flink   flinkResult    // stage (d); Skipped says why it did not run
	// flinkKeys counts every message by (c)'s key (TSV-unsafe ones too:
	// the job reads them as they are); flinkTruth is what (d) must find.
	flinkKeys  *keyCounts
	flinkTruth *flinkTruth
	Memory     *memoryResult // nil when skipped
	ScaleOut   []scaleRow    // empty when skipped
	Curve      []curveRow    // the partition curve; empty when skipped
	// PlotNote says where the curves' PNG went, or why it did not;
	// plotErr is a failure to write it (drawPlot).
	PlotNote string
	plotErr  error

	Machine       machine
	Began, Finish time.Time
	LoadBefore    string // /proc/loadavg
	LoadAfter     string

	opts                    options
	chSampled, kafkaSampled bool // whether the servers' processes were found
}

// runBench runs every stage once, writing progress to progress.
func runBench(ctx context.Context, opts options, progress io.Writer) (rep *report, err error) {
	b, err := newBench(ctx, opts, progress)
	if err != nil {
		return nil, err
	}
	defer func() {
		if cerr := b.close(); err == nil {
			err = cerr
		}
	}()
	rep = &report{opts: opts, ID: b.id, Events: opts.Events, Users: int(opts.Events) / opts.EventsPerUser, Began: time.Now(),
		Machine: machineInfo(), LoadBefore: loadAverage()}

	rep.chSampled, rep.kafkaSampled = b.chServer != nil, b.kafkaServer != nil
	if rep.Flink.Skipped = flinkSkip(opts); rep.Flink.Skipped == "" {
		rep.flinkKeys = newKeyCounts()
		rep.flinkTruth = newFlinkTruth(flinkMinTS, rep.Began.Add(time.Hour).UnixMilli(), flinkWindow.Milliseconds())
	} else {
		b.logf("(d) Flink: SKIPPED: %s", rep.Flink.Skipped)
	}
	topic := b.name("events")
	b.cleanup(func(ctx context.Context) error { return b.kafka.deleteTopics(ctx, topic) })
	ranges, took, err := b.genBenchTopic(ctx, topic, opts.Partitions)
	if err != nil {
		return nil, err
	}
	rep.Gen = took

	if err := b.rawStage(ctx, topic, ranges, rep); err != nil {
		return nil, err
	}

	b.logf("(b) cohortline run: consuming %d messages into ClickHouse…", opts.Events)
	if rep.Run, err = b.runCohortline(ctx, runSpec{label: "run", topic: topic, ranges: ranges, cpuprofile: opts.RunCPUProfile}); err != nil {
		return nil, fmt.Errorf("stage (b): %w", err)
	}
	b.logf("(b) cohortline run: %s", rateOf(rep.Run.Messages, rep.Run.Wall))
	if rep.ScaleOut, err = b.scaleOutStage(ctx, topic, ranges, rep.Run); err != nil {
		return nil, err
	}
	if rep.Curve, err = b.partitionCurveStage(ctx, rep.Run); err != nil {
		return nil, err
	}

	if opts.KafkaConfig != "" {
		b.logf("(c) ClickHouse Kafka engine: SKIPPED: --kafka-config (the engine's librdkafka is configured in ClickHouse's own config)")
	}
	for _, cfg := range engineConfigs(opts) {
		b.logf("(c) ClickHouse Kafka engine, %s: counting %d messages…", cfg, rep.Expected)
		e, err := b.runEngine(ctx, topic, ranges, rep.keys, rep.Expected, cfg)
		if err != nil {
			return nil, fmt.Errorf("stage (c): %w", err)
		}
		b.logf("(c) %s: %s, %d counted: %d duplicated, %d lost", cfg, rateOf(e.Expected, e.Wall), e.Counted, e.Duplicated, e.Lost)
		rep.Engines = append(rep.Engines, e)
	}

	if rep.Flink.Skipped == "" {
		b.logf("(d) Flink job, parallelism %d: counting %d messages…", opts.FlinkParallelism, rep.Events)
		if rep.Flink, err = b.runFlink(ctx, topic, ranges, rep.flinkKeys, rep.flinkTruth); err != nil {
			return nil, fmt.Errorf("stage (d): %w", err)
		}
		f := rep.Flink
		b.logf("(d) Flink: %s; %d windowed, %d late, %d invalid: %d duplicated, %d lost, %d cells wrong", rateOf(f.Messages, f.Wall),
			f.Windowed, f.Late, f.Invalid, f.Duplicated, f.Lost, f.Cells.EventsWrong+f.Cells.UsersWrong)
	}

	if len(opts.MemUsers) > 0 {
		m, err := b.memoryStage(ctx)
		if err != nil {
			return nil, fmt.Errorf("memory per active user: %w", err)
		}
		rep.Memory = &m
	}
	rep.Finish, rep.LoadAfter = time.Now(), loadAverage()
	rep.drawPlot()
	return rep, nil
}

// flinkSkip says why stage (d) does not run with opts, or "" if it does.
func flinkSkip(opts options) string {
	if opts.Flink == "off" {
		return "--flink off"
	}
	if opts.KafkaConfig != "" {
		return "--kafka-config: the job's Kafka source is not secured by it"
	}
	if missing := flinkMissing(); missing != "" {
		if opts.Flink == "on" {
			return "" // runFlink fails, naming the missing tool
		}
		return missing + " (--flink auto)"
	}
	return ""
}

// genBenchTopic fills topic, created with partitions partitions, with
// stage (b)'s events: --events of --events / --events-per-user users over
// 24 h, from --seed. The generator keys each event by its user, so only
// the partitions the events land in differ between two such topics.
func (b *bench) genBenchTopic(ctx context.Context, topic string, partitions int) ([]partitionRange, time.Duration, error) {
	users := max(int(b.opts.Events)/b.opts.EventsPerUser, 1)
	return b.gen(ctx, topic, partitions, users, b.opts.Events, "--span", "24h")
}

// gen fills topic, created with partitions partitions, with `cohortline
// gen` (users, events, then extra flags) and returns its partitions.
func (b *bench) gen(ctx context.Context, topic string, partitions, users int, events int64, extra ...string) ([]partitionRange, time.Duration, error) {
	b.logf("generating %d events of %d users into topic %s (%d partitions)…", events, users, topic, partitions)
	if err := b.kafka.createTopic(ctx, topic, partitions); err != nil {
		return nil, 0, err
	}
	args := append([]string{"gen", "--seed", strconv.FormatUint(b.opts.Seed, 10), "--users", strconv.Itoa(users),
		"--events", strconv.FormatInt(events, 10), "--kafka", b.opts.Kafka, "--topic", topic,
		"--partitions", strconv.Itoa(partitions)}, extra...)
	if b.opts.KafkaConfig != "" {
		args = append(args, "--config", b.opts.KafkaConfig)
	}
	c, err := startChild(b.opts.Cohortline, filepath.Join(b.dir, topic+".gen.log"), nil, args...)
	if err != nil {
		return nil, 0, err
	}
	defer c.kill()
	select {
	case <-c.done:
	case <-ctx.Done():
		return nil, 0, ctx.Err()
	}
	took := time.Since(c.started)
	if c.err != nil {
		return nil, 0, fmt.Errorf("cohortline gen into %s: %w\n%s", topic, c.err, c.logTail(10))
	}
	ranges, err := b.kafka.topicRanges(ctx, topic)
	if err != nil {
		return nil, 0, err
	}
	if n := messages(ranges); n != events {
		return nil, 0, fmt.Errorf("topic %s holds %d messages after gen, want %d", topic, n, events)
	}
	return ranges, took, nil
}

// rawStage is stage (a): the topic read by kafka.Reader, then by a
// Conn.ReadBatch loop (the pipeline's before its own fetch client), then
// once more, untimed, to count what the Kafka engine must count.
func (b *bench) rawStage(ctx context.Context, topic string, ranges []partitionRange, rep *report) error {
	var err error
	b.logf("(a) raw read with kafka.Reader…")
	began := b.mark()
	if rep.Reader, rep.ReaderCPU, rep.ReaderKafka, err = b.timedRead(func() (readResult, error) {
		return readWithReader(ctx, b.opts.kafka.dialer, b.opts.Kafka, topic, ranges)
	}); err != nil {
		return fmt.Errorf("stage (a), kafka.Reader: %w", err)
	}
	b.logf("(a) kafka.Reader: %s", rateOf(rep.Reader.Messages, rep.Reader.Wall))
	b.logf("(a) raw read with Conn.ReadBatch…")
	if rep.Batch, rep.BatchCPU, rep.BatchKafka, err = b.timedRead(func() (readResult, error) {
		return readWithBatches(ctx, b.opts.kafka.dialer, b.opts.Kafka, topic, ranges, nil)
	}); err != nil {
		return fmt.Errorf("stage (a), Conn.ReadBatch: %w", err)
	}
	b.logf("(a) Conn.ReadBatch: %s", rateOf(rep.Batch.Messages, rep.Batch.Wall))
	ch, _ := b.serverUsage(began, b.mark())
	rep.BackgroundClickHouse = ch.CPU

	var unsafe atomic.Int64
	rep.keys = newKeyCounts()
	all, err := readWithBatches(ctx, b.opts.kafka.dialer, b.opts.Kafka, topic, ranges, func(m kafka.Message) {
		if rep.flinkTruth != nil {
			rep.flinkKeys.add(m.Value)
			rep.flinkTruth.add(m.Value)
		}
		if bytes.ContainsAny(m.Value, "\t\n\r\\") {
			unsafe.Add(1)
			return
		}
		rep.keys.add(m.Value)
	})
	if err != nil {
		return fmt.Errorf("counting the rows the Kafka engine must count: %w", err)
	}
	rep.TSVUnsafe = unsafe.Load()
	rep.Expected = all.Messages - rep.TSVUnsafe
	if rep.TSVUnsafe > 0 {
		b.logf("warning: %d messages hold a tab, line break or backslash: the Kafka engine's TSV rows will not match them one to one", rep.TSVUnsafe)
	}
	for _, r := range []readResult{rep.Reader, rep.Batch, all} {
		if r.Messages != rep.Events {
			return fmt.Errorf("stage (a): read %d messages, the topic holds %d", r.Messages, rep.Events)
		}
	}
	return nil
}

// timedRead runs read and measures this process's CPU time and the
// broker's usage meanwhile.
func (b *bench) timedRead(read func() (readResult, error)) (readResult, time.Duration, usage, error) {
	cpu0, err := procCPU(os.Getpid())
	if err != nil {
		return readResult{}, 0, usage{}, err
	}
	began := b.mark()
	r, err := read()
	if err != nil {
		return readResult{}, 0, usage{}, err
	}
	cpu1, err := procCPU(os.Getpid())
	if err != nil {
		return readResult{}, 0, usage{}, err
	}
	_, k := b.serverUsage(began, b.mark())
	return r, cpu1 - cpu0, k, nil
}
