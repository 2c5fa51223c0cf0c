package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/cohortline/cohortline/schemas"
)

// The event-time settings stage (b) runs with, which stage (d) copies:
// the benchmark's spec (benchWindow: 1 h windows; the default spec's lateness, 0) and
// kafka.max_out_of_order's default. TestFlinkSettingsAreRuns checks them.
// With an allowed lateness above 0 Flink would fire a window again for each
// late event, with the window's whole count, and the sums that the checks
// take over the results table would count those events twice.
const (
	flinkWindow          = time.Hour
	flinkAllowedLateness = time.Duration(0)
	flinkMaxOutOfOrder   = 10 * time.Second
)

// flinkResult is stage (d): the Flink job (flink/) over the whole topic.
type flinkResult struct {
	// Skipped says why the stage did not run; "" when it ran.
	Skipped     string
	Build       time.Duration // this run's Maven build; 0 when the jar was up to date
	Parallelism int
	Messages    int64
	// Wall is from the JVM's start to the job's result line, printed once
	// the job has finished and with it the last insert: MiniCluster
	// startup and the last windows' flush included, like (b)'s.
	Wall time.Duration
	// Startup is from the JVM's start to the first record handled.
	Startup    time.Duration
	NetRuntime time.Duration // Flink's own: job submission to its end
	CPU        time.Duration // the JVM, its whole life up to the result line
	PeakRSS    uint64        // its VmHWM then
	// ClickHouse and Kafka are the servers' usage over Wall.
	ClickHouse, Kafka usage
	Checkpoints       int // completed, from the job's log

	Rows, DuplicateRows     int64 // rows of the windows table; rows beyond one per cell
	Windowed, Late, Invalid int64 // events in windows, late (dropped), invalid
	// Duplicated and Lost compare the events by cohort key (windowed,
	// late and invalid together) with the topic, like stage (c)'s.
	Duplicated, Lost int64
	LostKeys         []string
	Cells            cellCheck // events and users by (cohort key, window)
	WantInvalid      int64     // the invalid messages in the topic
}

// exact reports whether every message was accounted for once and every
// cell's events and users are right.
func (r flinkResult) exact() bool {
	return r.Skipped == "" && r.Duplicated == 0 && r.Lost == 0 && r.DuplicateRows == 0 && r.Cells.exact() && r.Invalid == r.WantInvalid
}

// flinkDDL is stage (d)'s tables: the job's results and the events its
// windows did not count (Job.java). Times are Unix epoch milliseconds.
const flinkDDL = `
CREATE TABLE {db}.windows (window_start Int64, cohort_key String, events UInt64, users UInt64)
ENGINE = MergeTree() ORDER BY (window_start, cohort_key);

CREATE TABLE {db}.dropped (reason String, window_start Int64, cohort_key String, events UInt64)
ENGINE = MergeTree() ORDER BY (reason, window_start, cohort_key)`

// flinkJVMFlags: warnings only, but the checkpoint coordinator's INFO lines
// (completed checkpoints are counted from them), and the module openings
// Flink's own distribution passes on Java 17 for its serializers.
var flinkJVMFlags = []string{
	"-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
	"-Dorg.slf4j.simpleLogger.log.org.apache.flink.runtime.checkpoint.CheckpointCoordinator=info",
	"-Dorg.slf4j.simpleLogger.log.org.apache.flink.metrics=error",
	"--add-opens=java.base/java.lang=ALL-UNNAMED",
	"--add-opens=java.base/java.util=ALL-UNNAMED",
	"--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
	"--add-opens=java.base/java.io=ALL-UNNAMED",
	"--add-opens=java.base/java.nio=ALL-UNNAMED",
	"--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
	"--add-opens=java.base/java.net=ALL-UNNAMED",
	"--add-opens=java.base/java.time=ALL-UNNAMED",
	"--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
}

// runFlink runs stage (d) over topic: builds the job if needed, runs it
// with a fresh group and database, and checks its results against keys
// (every message by cohort key) and truth.
func (b *bench) runFlink(ctx context.Context, topic string, ranges []partitionRange, keys *keyCounts, truth *flinkTruth) (flinkResult, error) {
	name := b.name("flink")
	db := strings.ReplaceAll(name, "-", "_")
	res := flinkResult{Parallelism: b.opts.FlinkParallelism, Messages: messages(ranges), WantInvalid: truth.invalid}
	bctx, cancel := context.WithTimeout(ctx, b.opts.StageTimeout)
	jar, err := buildFlinkJob(bctx, b.opts.FlinkDir, b.opts.MavenRepo, filepath.Join(b.dir, name+".maven.log"))
	cancel()
	if err != nil {
		return flinkResult{}, err
	}
	res.Build = jar.built
	if res.Build > 0 {
		b.logf("(d) built the Flink job with Maven in %.1f s", res.Build.Seconds())
	}

	b.cleanup(func(ctx context.Context) error { return b.kafka.deleteGroup(ctx, name) })
	b.cleanup(func(ctx context.Context) error { return b.ch.dropDatabases(ctx, db) })
	if err := b.ch.exec(ctx, "CREATE DATABASE "+db); err != nil {
		return flinkResult{}, err
	}
	for _, stmt := range strings.Split(strings.ReplaceAll(flinkDDL, "{db}", db), ";") {
		if err := b.ch.exec(ctx, stmt); err != nil {
			return flinkResult{}, err
		}
	}
	args := append(append([]string{}, flinkJVMFlags...), "-cp", jar.classpath, "cohortbench.flink.Job",
		"--brokers", b.opts.Kafka, "--topic", topic, "--group", name,
		"--parallelism", strconv.Itoa(b.opts.FlinkParallelism),
		"--jdbc-url", "jdbc:clickhouse://"+b.opts.ClickHouseHTTP+"/"+db,
		"--windows-table", db+".windows", "--dropped-table", db+".dropped",
		"--window-ms", ms(flinkWindow), "--allowed-lateness-ms", ms(flinkAllowedLateness),
		"--max-out-of-order-ms", ms(flinkMaxOutOfOrder),
		"--min-ts", strconv.FormatInt(truth.minTS, 10), "--max-ts", strconv.FormatInt(truth.maxTS, 10),
		"--checkpoint-dir", filepath.Join(b.dir, name+"-checkpoints"),
		"--checkpoint-interval-ms", ms(b.opts.FlinkCheckpointInterval))

	began := b.mark()
	logPath := filepath.Join(b.dir, name+".log")
	c, watch, stdin, err := startJava(logPath, args)
	if err != nil {
		return flinkResult{}, err
	}
	defer c.kill()
	wctx, cancel := context.WithTimeout(ctx, b.opts.StageTimeout)
	defer cancel()
	select {
	case <-watch.seen:
	case <-c.done:
		return flinkResult{}, fmt.Errorf("the Flink job exited before its result line: %v\n%s", c.err, c.logTail(30))
	case <-wctx.Done():
		return flinkResult{}, fmt.Errorf("waiting for the Flink job after %s: %w\n%s", b.opts.StageTimeout, wctx.Err(), c.logTail(30))
	}
	end := b.mark()
	res.Wall = end.Sub(c.started)
	if res.CPU, err = procCPU(c.pid()); err != nil {
		return flinkResult{}, err
	}
	mem, err := procMem(c.pid())
	if err != nil {
		return flinkResult{}, err
	}
	res.PeakRSS = mem.Peak
	res.ClickHouse, res.Kafka = b.serverUsage(began, end)
	done, err := watch.result()
	if err != nil {
		return flinkResult{}, err
	}
	if done.Records != res.Messages {
		return flinkResult{}, fmt.Errorf("the Flink job read %d messages, the topic holds %d", done.Records, res.Messages)
	}
	res.NetRuntime = time.Duration(done.NetRuntimeMS) * time.Millisecond
	res.Startup = time.UnixMilli(done.FirstRecordMS).Sub(c.started)
	stdin.Close() // measured: let it exit
	select {
	case <-c.done:
	case <-time.After(time.Minute):
		b.logf("(d) the Flink job did not exit a minute after its stdin closed; killing it")
	}
	log, err := os.ReadFile(logPath)
	if err != nil {
		return flinkResult{}, err
	}
	res.Checkpoints = completedCheckpoints(log)
	if err := b.ch.flinkResults(ctx, db, keys, truth, &res); err != nil {
		return flinkResult{}, err
	}
	return res, nil
}

func ms(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) }

// startJava starts java with args, its output to logPath, and returns the
// process, the watch on its standard output and its standard input, which
// the job reads until it closes.
func startJava(logPath string, args []string) (*child, *doneWatch, io.WriteCloser, error) {
	f, err := os.Create(logPath)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("creating %s: %w", logPath, err)
	}
	c := &child{cmd: exec.Command("java", args...), log: logPath, done: make(chan struct{})}
	watch := newDoneWatch(f)
	c.cmd.Stdout, c.cmd.Stderr = watch, f
	stdin, err := c.cmd.StdinPipe()
	if err != nil {
		f.Close()
		return nil, nil, nil, err
	}
	c.started = time.Now()
	if err := c.cmd.Start(); err != nil {
		f.Close()
		return nil, nil, nil, fmt.Errorf("starting java %s: %w", strings.Join(args, " "), err)
	}
	go func() {
		c.err = c.cmd.Wait()
		f.Close()
		close(c.done)
	}()
	return c, watch, stdin, nil
}

// flinkResults reads stage (d)'s tables into res and checks them.
func (c *chClient) flinkResults(ctx context.Context, db string, keys *keyCounts, truth *flinkTruth, res *flinkResult) error {
	byKey := map[string]int64{}
	windows := map[cellKey]cellCount{}
	rows, err := c.conn.Query(ctx, "SELECT window_start, cohort_key, sum(events), sum(users), count() FROM "+db+".windows GROUP BY window_start, cohort_key")
	if err != nil {
		return fmt.Errorf("reading %s.windows: %w", db, err)
	}
	for rows.Next() {
		var k cellKey
		var events, users, n uint64
		if err := rows.Scan(&k.WindowStart, &k.Key, &events, &users, &n); err != nil {
			rows.Close()
			return fmt.Errorf("reading %s.windows: %w", db, err)
		}
		windows[k] = cellCount{Events: int64(events), Users: int64(users)}
		byKey[k.Key] += int64(events)
		res.Windowed += int64(events)
		res.Rows += int64(n)
		res.DuplicateRows += int64(n) - 1
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading %s.windows: %w", db, err)
	}
	late := map[cellKey]int64{}
	rows, err = c.conn.Query(ctx, "SELECT reason, window_start, cohort_key, sum(events) FROM "+db+".dropped GROUP BY reason, window_start, cohort_key")
	if err != nil {
		return fmt.Errorf("reading %s.dropped: %w", db, err)
	}
	for rows.Next() {
		var reason string
		var k cellKey
		var events uint64
		if err := rows.Scan(&reason, &k.WindowStart, &k.Key, &events); err != nil {
			rows.Close()
			return fmt.Errorf("reading %s.dropped: %w", db, err)
		}
		byKey[k.Key] += int64(events)
		switch reason {
		case "late":
			late[k] += int64(events)
			res.Late += int64(events)
		case "invalid":
			res.Invalid += int64(events)
		default:
			rows.Close()
			return fmt.Errorf("reading %s.dropped: unknown reason %q", db, reason)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading %s.dropped: %w", db, err)
	}
	res.Duplicated, res.Lost, res.LostKeys = keys.diff(byKey)
	res.Cells = checkCells(truth.cells(), windows, late)
	return nil
}

// flinkMinTS is the earliest event time the job windows (the decoder's
// default); the latest is the benchmark's start plus kafka.max_future_skew's
// default (1 h), as in stage (b).
const flinkMinTS = schemas.DefaultMinTS
