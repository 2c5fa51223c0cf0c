package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cohortline/cohortline/cmd/internal/console"
)

// Targets of issue 5, as ratios from one run.
const (
	targetRunOverRaw    = 0.7 // (b)/(a)
	targetRunOverEngine = 3.0 // (b)/(c), with 0 duplicates
	targetBytesPerUser  = 100.0
	// Issue 19: (b)/(d), both exact.
	targetRunOverFlink       = 5.0 // by events/s
	targetRunOverFlinkPerCPU = 6.0 // by events per CPU second
)

// ioLimit is the faster of the two raw reads.
func (r *report) ioLimit() (string, readResult) {
	if console.PerSecond(r.Reader.Messages, r.Reader.Wall) > console.PerSecond(r.Batch.Messages, r.Batch.Wall) {
		return "kafka.Reader", r.Reader
	}
	return "Conn.ReadBatch", r.Batch
}

// print writes the table and the ratios, then how each figure is taken.
func (r *report) print(w io.Writer) {
	fmt.Fprintf(w, "\nCohortline benchmark, %s\n", r.Began.UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(w, "machine: %s\n", r.Machine)
	fmt.Fprintf(w, "load average (1, 5, 15 min): %s before, %s after\n", r.LoadBefore, r.LoadAfter)
	fmt.Fprintf(w, "topic: %d events of %d users, %d partitions (cohortline gen: %.1f s, %s events/s)\n\n",
		r.Events, r.Users, r.opts.Partitions, r.Gen.Seconds(), console.Short(console.PerSecond(r.Events, r.Gen)))
	r.table(w)
	fmt.Fprintln(w)
	r.ratios(w)
	if len(r.ScaleOut) > 0 {
		fmt.Fprintln(w)
		r.scaleOut(w)
	}
	if len(r.Curve) > 0 {
		fmt.Fprintln(w)
		r.partitionCurve(w)
	}
	if r.Memory != nil {
		fmt.Fprintln(w)
		r.memory(w)
	}
	fmt.Fprintln(w)
	r.plotStatus(w)
	fmt.Fprintln(w)
	r.method(w)
}

func (r *report) table(w io.Writer) {
	// Numbers align right; the stage names are padded here to read left.
	names := []string{"(a) raw read, kafka.Reader", "(a) raw read, Conn.ReadBatch", "(b) cohortline run -> ClickHouse"}
	for _, e := range r.Engines {
		names = append(names, "(c) Kafka engine + MV, "+e.config().String())
	}
	names = append(names, flinkStage)
	width := 0
	for _, n := range names {
		width = max(width, len(n))
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "%-*s\t", width, "stage")
	fmt.Fprintln(tw, "events/s\ttime s\tCPU s: consumer\tClickHouse\tKafka\ttotal\tevents per CPU s\tpeak RSS MiB: consumer\tClickHouse\tduplicates\t")
	row := func(name string, n int64, wall time.Duration, consumer, clickhouse string, kafka, total time.Duration, rss, chRSS, dups string) {
		fmt.Fprintf(tw, "%-*s\t%s\t%.2f\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", width, name, console.Short(console.PerSecond(n, wall)), wall.Seconds(),
			consumer, clickhouse, secsOrNA(kafka, r.kafkaSampled), secs(total), console.Short(console.PerSecond(n, total)), rss, chRSS, dups)
	}
	for _, a := range []struct {
		name string
		res  readResult
		cpu  time.Duration
		k    usage
	}{{"(a) raw read, kafka.Reader", r.Reader, r.ReaderCPU, r.ReaderKafka}, {"(a) raw read, Conn.ReadBatch", r.Batch, r.BatchCPU, r.BatchKafka}} {
		row(a.name, a.res.Messages, a.res.Wall, secs(a.cpu)+" (driver)", "-", a.k.CPU, a.cpu+a.k.CPU, "-", "-", "-")
	}
	b := r.Run
	row("(b) cohortline run -> ClickHouse", b.Messages, b.Wall, secs(b.CPU), secsOrNA(b.ClickHouse.CPU, r.chSampled), b.Kafka.CPU,
		b.CPU+b.ClickHouse.CPU+b.Kafka.CPU, mibOrNA(b.PeakRSS), mibOrNA(b.ClickHouse.PeakRSS),
		fmt.Sprintf("%d partial rows", b.Partials.Duplicates))
	for _, e := range r.Engines {
		row("(c) Kafka engine + MV, "+e.config().String(), e.Expected, e.Wall, "(in ClickHouse)",
			secsOrNA(e.ClickHouse.CPU, r.chSampled), e.Kafka.CPU, e.ClickHouse.CPU+e.Kafka.CPU, mibOrNA(e.ClickHouse.PeakRSS),
			mibOrNA(e.ClickHouse.PeakRSS), engineDuplicates(e))
	}
	if f := r.Flink; f.Skipped == "" {
		row(flinkStage, f.Messages, f.Wall, secs(f.CPU), secsOrNA(f.ClickHouse.CPU, r.chSampled), f.Kafka.CPU,
			f.CPU+f.ClickHouse.CPU+f.Kafka.CPU, mibOrNA(f.PeakRSS), mibOrNA(f.ClickHouse.PeakRSS), flinkDuplicates(f))
	}
	tw.Flush()
	r.flinkLine(w)
	if f := b.Flushes; f.Count > 0 {
		inserts := ""
		if f.Inserts > 0 {
			inserts = fmt.Sprintf(" in %d inserts", f.Inserts)
		}
		fmt.Fprintf(w, "(b) flushed %d windows of a partition%s; the flushes took %.2f s in all, %.2f s per partition worker, which waits for them (kafka.max_in_flight_flushes 1, the default; above 1 it reads on)\n",
			f.Count, inserts, f.Latency.Seconds(), f.Latency.Seconds()/float64(r.opts.Partitions))
	}
}

const flinkStage = "(d) Flink job -> ClickHouse (JDBC)"

func flinkDuplicates(f flinkResult) string {
	s := fmt.Sprintf("%d rows", f.DuplicateRows+f.Duplicated)
	if f.Lost > 0 {
		s += fmt.Sprintf(", %d LOST", f.Lost)
	}
	return s
}

// flinkLine says what stage (d) counted, or why it did not run.
func (r *report) flinkLine(w io.Writer) {
	f := r.Flink
	if f.Skipped != "" {
		fmt.Fprintf(w, "(d) Flink: SKIPPED (%s): no figures\n", f.Skipped)
		return
	}
	build := "jar up to date"
	if f.Build > 0 {
		build = fmt.Sprintf("Maven build %.1f s, not counted", f.Build.Seconds())
	}
	fmt.Fprintf(w, "(d) Flink 2.2.1, parallelism %d, %d EXACTLY_ONCE checkpoints completed (every %s); %s; startup %.2f s to the first record (without it: %s events/s), net job runtime %.2f s\n",
		f.Parallelism, f.Checkpoints, r.opts.FlinkCheckpointInterval, build, f.Startup.Seconds(), console.Short(console.PerSecond(f.Messages, f.Wall-f.Startup)), f.NetRuntime.Seconds())
	fmt.Fprintf(w, "(d) %d events in %d (cohort, window) rows, %d late (dropped: allowed lateness %s), %d invalid (%d in the topic); ",
		f.Windowed, f.Rows, f.Late, flinkAllowedLateness, f.Invalid, f.WantInvalid)
	fmt.Fprintf(w, "cells: %d, events wrong in %d, distinct users exact in %d, wrong in %d (the other %d had late events: fewer users allowed)\n",
		f.Cells.Cells, f.Cells.EventsWrong, f.Cells.UsersExact, f.Cells.UsersWrong, f.Cells.Cells-f.Cells.UsersExact-f.Cells.UsersWrong)
}

func engineDuplicates(e engineResult) string {
	s := fmt.Sprintf("%d rows (%.2f%%)", e.Duplicated, 100*float64(e.Duplicated)/float64(max(e.Expected, 1)))
	if e.Lost > 0 {
		s += fmt.Sprintf(", %d LOST", e.Lost)
	}
	return s
}

func (r *report) ratios(w io.Writer) {
	ioName, io := r.ioLimit()
	run := console.PerSecond(r.Run.Messages, r.Run.Wall)
	limit := console.PerSecond(io.Messages, io.Wall)
	fmt.Fprintf(w, "I/O limit (a): %s events/s (%s, the faster raw read)\n", console.Short(limit), ioName)
	ratio := run / limit
	fmt.Fprintf(w, "(b)/(a) = %.2f   target >= %.1f: %s\n", ratio, targetRunOverRaw,
		verdict(ratio >= targetRunOverRaw, fmt.Sprintf("short by %.2f; (b) would need %s events/s", targetRunOverRaw-ratio, console.Short(targetRunOverRaw*limit))))
	for i, e := range r.Engines {
		ratio := run / console.PerSecond(e.Expected, e.Wall)
		// The target compares with the duplicate-free engine (1 consumer)
		// and asks Cohortline for 0 duplicates; what the engine got wrong
		// is said beside it.
		ok := ratio >= targetRunOverEngine && r.Run.Partials.Duplicates == 0
		target := fmt.Sprintf("target >= %.0f with 0 duplicates: %s", targetRunOverEngine,
			verdict(ok, fmt.Sprintf("short by %.2f", targetRunOverEngine-ratio)))
		if i > 0 {
			target = "(for comparison; " + target + ")"
		}
		engine := "exact"
		if !e.exact() {
			engine = fmt.Sprintf("%d duplicated, %d lost", e.Duplicated, e.Lost)
		}
		if len(e.LostKeys) > 0 {
			engine += " (on " + strings.Join(e.LostKeys, ", ") + ")"
		}
		fmt.Fprintf(w, "(b)/(c, %s) = %.2f, per CPU second %.2f; (c) %s   %s\n", e.config(), ratio,
			console.PerSecond(r.Run.Messages, r.Run.CPU+r.Run.ClickHouse.CPU+r.Run.Kafka.CPU)/console.PerSecond(e.Expected, e.ClickHouse.CPU+e.Kafka.CPU), engine, target)
	}
	r.flinkRatios(w, run)
	if r.TSVUnsafe > 0 {
		fmt.Fprintf(w, "warning: %d messages are not one TSV field as they are; (c)'s expected count leaves them out\n", r.TSVUnsafe)
	}
}

func (r *report) flinkRatios(w io.Writer, run float64) {
	f := r.Flink
	if f.Skipped != "" {
		fmt.Fprintf(w, "(b)/(d): not measured, stage (d) was skipped (%s)\n", f.Skipped)
		return
	}
	ratio := run / console.PerSecond(f.Messages, f.Wall)
	perCPU := console.PerSecond(r.Run.Messages, r.Run.CPU+r.Run.ClickHouse.CPU+r.Run.Kafka.CPU) / console.PerSecond(f.Messages, f.CPU+f.ClickHouse.CPU+f.Kafka.CPU)
	flink := "exact"
	if !f.exact() {
		flink = fmt.Sprintf("NOT exact: %d duplicated, %d lost, %d duplicate rows, %d cells with wrong events, %d with wrong users, %d of %d invalid",
			f.Duplicated, f.Lost, f.DuplicateRows, f.Cells.EventsWrong, f.Cells.UsersWrong, f.Invalid, f.WantInvalid)
		if len(f.LostKeys) > 0 {
			flink += " (lost on " + strings.Join(f.LostKeys, ", ") + ")"
		}
	}
	ok := ratio >= targetRunOverFlink && perCPU >= targetRunOverFlinkPerCPU && f.exact() && r.Run.Partials.Duplicates == 0
	fmt.Fprintf(w, "(b)/(d) = %.2f, per CPU second %.2f; (d) %s   target >= %.0f and >= %.0f per CPU second, both exact: %s\n",
		ratio, perCPU, flink, targetRunOverFlink, targetRunOverFlinkPerCPU,
		verdict(ok, flinkShort(ratio, perCPU, f.exact() && r.Run.Partials.Duplicates == 0)))
}

// flinkShort says which part of the (b)/(d) target was missed.
func flinkShort(ratio, perCPU float64, exact bool) string {
	var miss []string
	if ratio < targetRunOverFlink {
		miss = append(miss, fmt.Sprintf("events/s short by %.2f", targetRunOverFlink-ratio))
	}
	if perCPU < targetRunOverFlinkPerCPU {
		miss = append(miss, fmt.Sprintf("per CPU second short by %.2f", targetRunOverFlinkPerCPU-perCPU))
	}
	if !exact {
		miss = append(miss, "not both exact")
	}
	return strings.Join(miss, ", ")
}

// memory is the memory curve: a row per run, then the slope between its
// ends against the target.
func (r *report) memory(w io.Writer) {
	m := r.Memory
	fmt.Fprintf(w, "memory curve: cohortline runs with all of a topic's events in one window, %d events per user\n", r.opts.MemEventsPerUser)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "--users\tactive users\tevents/s\tpeak RSS\tlive heap\tbytes/user\t")
	for i, p := range m.Points {
		step := "-"
		if i > 0 {
			step = fmt.Sprintf("%.0f", m.stepPerUser(i))
		}
		fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t%s\t%s\t\n", p.Users, p.Active, console.Short(console.PerSecond(p.Events, p.Wall)),
			mib(p.PeakRSS), mib(p.LiveHeap), step)
	}
	tw.Flush()
	fmt.Fprintln(w, "(bytes/user: the peak RSS added per active user since the row above)")
	lo, hi := m.smallest(), m.largest()
	bpu := m.BytesPerUser()
	fmt.Fprintf(w, "memory per active user = (%s - %s) / (%d - %d) users = %.0f bytes of peak RSS   target <= %.0f: %s\n",
		mib(hi.PeakRSS), mib(lo.PeakRSS), hi.Active, lo.Active, bpu, targetBytesPerUser,
		verdict(bpu <= targetBytesPerUser, fmt.Sprintf("over by %.0f bytes", bpu-targetBytesPerUser)))
	fmt.Fprintf(w, "  of which live Go heap (without GC headroom; the per-user tables are mapped outside it): (%s - %s) / %d = %.0f bytes per active user\n",
		mib(hi.LiveHeap), mib(lo.LiveHeap), hi.Active-lo.Active, m.LiveBytesPerUser())
}

func (r *report) method(w io.Writer) {
	fmt.Fprintf(w, `How the figures are taken:
- events/s is messages in the topic / time s; CPU s are user+system seconds from /proc/PID/stat
  (the servers sampled every %s and at each stage's start and end); "total" adds the processes
  that did the work. ClickHouse and Kafka are shared with anything else running on this machine.
- (a) reads every partition from its first offset to its end, all partitions at once, and does
  nothing with the messages: one kafka.Reader per partition, then one Conn.ReadBatch loop per
  partition, kafka-go's fastest read (4 MiB fetches both). CPU "consumer" is this driver.
- (b) starts "cohortline run" (fresh group and databases, no HTTP, no publishing, idle_timeout %s)
  and polls the group's committed offsets every 20 ms: every partition's end is committed only once
  the idle timeout has closed its last windows and they are flushed. time s = (when all ends were
  seen committed) - (process start) - idle timeout: startup (%.2f s to the first partition
  assignment) and the last flush included; the rest of the error is at most one fetch wait
  (250 ms). Without startup: %s events/s. CPU and peak RSS (VmHWM) are of the cohortline process
  up to that moment; then SIGTERM. duplicates: partial rows repeating a (window, partition, cohort).
- (c) commits offset 0 for a fresh group (ClickHouse 18.16 starts a new group at the end), creates
  a SummingMergeTree (cohort_key, events) and a Kafka table (one String column, TSV,
  kafka_row_delimiter '\n'), then times from CREATE MATERIALIZED VIEW (counting by
  country|lang|age|platform with visitParamExtractString) to the last change of sum(events); done
  once the count has reached the expected %d (every message that is one TSV field: all generated
  ones) and stayed put for %s, or stayed put for %s short of it. duplicates and LOST compare the
  counts key by key with the topic, read again untimed (the view's key computed in Go the way
  visitParamExtractString does): a duplicate and a loss do not cancel out. Its CPU and peak RSS
  (sampled VmRSS) are clickhouse-server's, which also runs the view; ClickHouse's CPU during (a),
  where it has no part, was %s s: other work on the shared server.
`, sampleEvery, r.opts.IdleTimeout, r.Run.Startup.Seconds(), console.Short(console.PerSecond(r.Run.Messages, r.Run.Wall-r.Run.Startup)),
		r.Expected, r.opts.Settle, r.opts.Stall, secsOrNA(r.BackgroundClickHouse, r.chSampled))
	if r.Flink.Skipped == "" {
		fmt.Fprintf(w, `- (d) builds cmd/cohortbench/flink with Maven once (target/, stamped by a checksum of its sources;
  the first build downloads Flink from Maven Central) and runs it as "java ... cohortbench.flink.Job":
  a local MiniCluster, parallelism %d, a KafkaSource from the earliest offsets to the end offsets
  at its start (bounded: the end of input closes the last windows, as (b)'s idle timeout does),
  per-partition watermarks forBoundedOutOfOrderness(%s), 1h tumbling event-time windows keyed by
  (c)'s country|lang|age|platform key, allowed lateness %s, events and distinct users (every token
  held in the window's keyed state: exact), EXACTLY_ONCE checkpoints every %s (filesystem storage),
  results through clickhouse-jdbc 0.10.0 over HTTP in batches of 10000 and at each checkpoint.
  Messages Jackson does not read as an object with an integer ts in [2010-01-01, start + 1h) and a
  string user are "invalid": counted by key, never windowed, no watermark. Like (c), and unlike
  (b), it counts every message under its own attributes: no minors or sensitive categories left
  out, no deduplication, no one cohort per user. time s = (its result line, printed once the job
  and its inserts have finished) - (JVM start): JVM and MiniCluster startup included. CPU and peak
  RSS (VmHWM) are the JVM's up to then. duplicates and LOST compare the events by key (windowed +
  late + invalid) with the topic, as for (c); each (cohort, window)'s events (windowed + late) and
  distinct users (where no event was late) are checked against Go's count of the topic.
`, r.Flink.Parallelism, flinkMaxOutOfOrder, flinkAllowedLateness, r.opts.FlinkCheckpointInterval)
	}
	if len(r.ScaleOut) > 0 {
		fmt.Fprintf(w, `- scale-out: (b) again with N processes of "cohortline run" started together with one config (one
  consumer group, so the partitions are shared out by the group's rebalances), timed as (b) from
  the first process's start; CPU is the processes' sum, RSS the largest one's. The 1-instance row
  is (b). events per CPU-s is what carries to a machine with more cores: here the instances share
  %d cores with each other and with both servers. same partials: the run's partial rows, events,
  users and windows equal (b)'s, with no duplicate row.
`, r.Machine.CPUs)
	}
	if len(r.Curve) > 0 {
		fmt.Fprintf(w, `- partition curve: (b) again, one instance, over a topic of N partitions for each N of
  --curve-partitions (%s), generated like (b)'s (same events, users and seed; each event keyed
  by its user, so only where the events land differs) and deleted after its run; N = --partitions
  is (b) itself. CPU-µs/event = cohortline's CPU seconds / events x 1e6. duplicate partials must
  be 0, as for (b). events counted vs (b) is not 0 as a rule: late events are dropped by each
  partition's own watermark, which moves with that partition's users, so which events are late
  depends on how the users are spread over the partitions (the dead letters are the same).
`, joinInts(r.opts.CurvePartitions))
	}
	if r.Memory != nil {
		fmt.Fprintf(w, `- memory per active user: more runs of (b), on topics of --users %s with %d events
  per user, all in one 1h window (gen --span 50m --activity-skew 0 --late 0 --out-of-order 0),
  so every active user's state is held until the idle timeout closes the window. Active users
  are the window's distinct users in the partials (minors hold no state and are not counted).
  (peak RSS of the largest - of the smallest) / (difference in active users): the runtime,
  buffers and connections cancel out; the garbage collector's headroom (GOGC=100) and the
  tables' growth steps are included, as in production. Live heap: the largest heap a GC marked
  live in each run (GODEBUG=gctrace=1 on these runs only), differenced the same way; the
  per-user tables are mapped outside the Go heap (cohorts/slab.go), so it does not hold them.
`, joinInts(r.opts.MemUsers), r.opts.MemEventsPerUser)
	}
}

// joinInts spells a flag's list of integers as it is given: 1,2,4.
func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
}

func verdict(ok bool, miss string) string {
	if ok {
		return "met"
	}
	return "MISSED: " + miss
}

func rateOf(n int64, d time.Duration) string {
	return fmt.Sprintf("%d messages in %.2f s: %s events/s", n, d.Seconds(), console.Short(console.PerSecond(n, d)))
}

func secs(d time.Duration) string { return fmt.Sprintf("%.2f", d.Seconds()) }

func secsOrNA(d time.Duration, sampled bool) string {
	if !sampled {
		return "n/a"
	}
	return secs(d)
}

func mib(b uint64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }

func mibOrNA(b uint64) string {
	if b == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.0f", float64(b)/(1<<20))
}
