package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// runResult is stage (b): one `cohortline run` over a whole topic.
type runResult struct {
	Messages int64
	// Startup is from the process start to its first partition
	// assignment (migrations, joining the group).
	Startup time.Duration
	// Observed is from the process start to the moment the driver saw
	// every partition's end offset committed: the last windows close only
	// on the idle timeout, so that moment is one idle timeout (plus at
	// most one fetch wait and the last flush) after the last message.
	Observed time.Duration
	// Wall is Observed minus the idle timeout: the time to handle every
	// message, startup included.
	Wall    time.Duration
	CPU     time.Duration // the cohortline processes, whole life until Observed
	PeakRSS uint64        // the largest VmHWM of them
	// ClickHouse and Kafka are the servers' usage from the process start
	// to Observed.
	ClickHouse, Kafka usage
	Partials          partialStats
	Flushes           flushStats // from its log
	// PeakLiveHeap is the most heap a garbage collection found live
	// (runSpec.gctrace only; else 0).
	PeakLiveHeap uint64
}

// partialStats is what the run left in cohort_partials.
type partialStats struct {
	Rows uint64
	// Duplicates are rows beyond the first of a (window, topic, partition,
	// cohort): a replayed flush. A run without faults has none.
	Duplicates uint64
	Windows    uint64 // distinct windows
	Users      uint64 // sum of distinct users over all rows
	Events     uint64 // sum of counted events
}

// runSpec is one `cohortline run` of the benchmark.
type runSpec struct {
	label      string // names the group, databases and files
	topic      string
	ranges     []partitionRange
	cpuprofile string // passed on as cohortline's hidden --cpuprofile
	// gctrace runs it with GODEBUG=gctrace=1, so its log tells the live
	// heap at each garbage collection (runResult.PeakLiveHeap).
	gctrace bool
	// instances is how many processes share the consumer group (the
	// scale-out); 0 is one.
	instances int
}

// runCohortline runs `cohortline run` as child processes (spec.instances
// of them, one consumer group) with a fresh group and databases until
// every message of spec.topic is handled, then stops them with SIGTERM.
// CPU is the sum over the processes, PeakRSS the largest one's.
func (b *bench) runCohortline(ctx context.Context, spec runSpec) (runResult, error) {
	config, name, db, err := b.prepareRun(spec.label, spec.topic, runSettings{window: benchWindow})
	if err != nil {
		return runResult{}, err
	}
	var args []string
	if spec.cpuprofile != "" {
		args = append(args, "--cpuprofile", spec.cpuprofile)
	}
	began := b.mark()
	var env []string
	if spec.gctrace {
		env = append(env, "GODEBUG=gctrace=1")
	}
	children := make([]*child, max(spec.instances, 1))
	for i := range children {
		log := name + ".log"
		if i > 0 {
			log = fmt.Sprintf("%s-%d.log", name, i+1)
		}
		c, err := startChild(b.opts.Cohortline, filepath.Join(b.dir, log), env, append(args, "run", "--config", config)...)
		if err != nil {
			return runResult{}, err
		}
		defer c.kill()
		children[i] = c
	}
	first := children[0]
	res := runResult{Messages: messages(spec.ranges)}
	observed, err := b.waitCommitted(ctx, children, name, spec.topic, spec.ranges)
	if err != nil {
		return runResult{}, fmt.Errorf("waiting for run %s to handle %d messages: %w\n%s", spec.label, res.Messages, err, first.logTail(20))
	}
	end := b.mark()
	res.Observed = observed.Sub(first.started)
	res.Wall = res.Observed - b.opts.IdleTimeout
	for _, c := range children {
		cpu, err := procCPU(c.pid())
		if err != nil {
			return runResult{}, err
		}
		mem, err := procMem(c.pid())
		if err != nil {
			return runResult{}, err
		}
		res.CPU += cpu
		res.PeakRSS = max(res.PeakRSS, mem.Peak)
	}
	if t := first.assignedAt(); !t.IsZero() {
		res.Startup = t.Sub(first.started)
	}
	res.ClickHouse, res.Kafka = b.serverUsage(began, end)
	if res.Partials, err = b.ch.partials(ctx, db); err != nil {
		return runResult{}, err
	}
	for _, c := range children {
		if err := c.stop(time.Minute); err != nil {
			return runResult{}, fmt.Errorf("stopping run %s: %w\n%s", spec.label, err, c.logTail(20))
		}
		flushes, live, err := readRunLog(c.log)
		if err != nil {
			return runResult{}, err
		}
		res.Flushes.Count += flushes.Count
		res.Flushes.Latency += flushes.Latency
		res.Flushes.Inserts += flushes.Inserts
		res.PeakLiveHeap = max(res.PeakLiveHeap, live)
	}
	return res, nil
}

// prepareRun writes the config file of a `cohortline run` (runConfig)
// over topic, with a fresh group and databases named after label, and
// registers their deletion at the end along with the dead-letter topic.
// It returns the config's path, the group and the internal database.
func (b *bench) prepareRun(label, topic string, rs runSettings) (config, group, db string, err error) {
	group = b.name(label)
	db = strings.ReplaceAll(group, "-", "_")
	b.cleanup(func(ctx context.Context) error { return b.kafka.deleteTopics(ctx, topic+".dlq") })
	b.cleanup(func(ctx context.Context) error { return b.kafka.deleteGroup(ctx, group) })
	b.cleanup(func(ctx context.Context) error { return b.ch.dropDatabases(ctx, db, db+"_pub") })
	config = filepath.Join(b.dir, group+".yaml")
	if err := os.WriteFile(config, []byte(b.runConfig(topic, group, db, rs)), 0o644); err != nil {
		return "", "", "", fmt.Errorf("writing the config of run %s: %w", label, err)
	}
	return config, group, db, nil
}

// benchWindow is the window of every stage: hourly, as the engine's and
// Flink's jobs count, and as the figures of BENCHMARKS.md were taken,
// although cohortline's default became daily (issue 14). Feature set 1
// keeps the hourly spec publishable, which the config check demands.
const benchWindow = time.Hour

// runSettings are what differs between the config files of the
// benchmark's runs and the soak's.
type runSettings struct {
	window, lateness time.Duration // cohorts.window and allowed_lateness
	publish          bool          // publish.auto
	listen           string        // http.listen; "" disables it
}

// runConfig is the config file of a cohortline run: development mode,
// feature set 1, a fresh group and databases. The benchmark's runs have no
// HTTP listener and no publishing (stage (b) measures the stream into
// ClickHouse), and a short idle timeout so the last windows close soon
// after the last message.
func (b *bench) runConfig(topic, group, db string, rs runSettings) string {
	return fmt.Sprintf(`mode: development
kafka:
  brokers: [%s]
  topic: %s
  group: %s
  idle_timeout: %s
%scohorts:
  window: %s
  allowed_lateness: %s
  feature_set: 1
clickhouse:
  addr: [%s]
  database: %s
  published_database: %s_pub
publish:
  auto: %t
http:
  listen: %q
`, b.opts.Kafka, topic, group, b.opts.IdleTimeout, b.opts.kafka.yaml, rs.window, rs.lateness, b.opts.ClickHouse, db, db, rs.publish, rs.listen)
}

// waitCommitted polls group's committed offsets until every partition's
// end is committed, and returns when it saw that. It fails if a child
// exits first.
func (b *bench) waitCommitted(ctx context.Context, children []*child, group, topic string, ranges []partitionRange) (time.Time, error) {
	ctx, cancel := context.WithTimeout(ctx, b.opts.StageTimeout)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return time.Time{}, fmt.Errorf("after %s: %w", b.opts.StageTimeout, ctx.Err())
		case <-tick.C:
		}
		for _, c := range children {
			select {
			case <-c.done:
				return time.Time{}, fmt.Errorf("cohortline exited early: %v\n%s", c.err, c.logTail(10))
			default:
			}
		}
		done, err := b.kafka.committedAll(ctx, group, topic, ranges)
		if err != nil {
			return time.Time{}, err
		}
		if done {
			return time.Now(), nil
		}
	}
}

// child is a cohortline process of the benchmark; its standard output and
// error go to a log file.
type child struct {
	cmd     *exec.Cmd
	log     string
	started time.Time
	done    chan struct{} // closed once it exited; err is then set
	err     error
	watch   *assignWatch
}

// startChild starts bin with args and env added to this process's
// environment, logging into logPath.
func startChild(bin, logPath string, env []string, args ...string) (*child, error) {
	f, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("creating %s: %w", logPath, err)
	}
	c := &child{cmd: exec.Command(bin, args...), log: logPath, done: make(chan struct{}), watch: &assignWatch{w: f}}
	c.cmd.Stdout, c.cmd.Stderr = f, c.watch
	c.cmd.Env = append(os.Environ(), env...)
	c.started = time.Now()
	if err := c.cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("starting %s %s: %w", bin, strings.Join(args, " "), err)
	}
	go func() {
		c.err = c.cmd.Wait()
		f.Close()
		close(c.done)
	}()
	return c, nil
}

func (c *child) pid() int { return c.cmd.Process.Pid }

func (c *child) assignedAt() time.Time { return c.watch.at() }

// stop sends SIGTERM and waits up to timeout for a clean exit.
func (c *child) stop(timeout time.Duration) error {
	c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
		return c.err
	case <-time.After(timeout):
		return fmt.Errorf("still running %s after SIGTERM", timeout)
	}
}

// kill ends the process if it still runs and waits for it. It asks with
// SIGTERM first, so that a run leaves its consumer group (which can then be
// deleted at once), and sends SIGKILL after 10 s. An exit already seen by
// stop makes the SIGKILL a no-op.
func (c *child) kill() {
	select {
	case <-c.done:
		return
	default:
	}
	if c.stop(10*time.Second) != nil {
		c.cmd.Process.Signal(syscall.SIGKILL)
		<-c.done
	}
}

// logTail returns the last lines of the child's log, for error messages.
func (c *child) logTail(lines int) string {
	b, _ := os.ReadFile(c.log)
	all := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return fmt.Sprintf("last lines of %s:\n%s", c.log, strings.Join(all[max(0, len(all)-lines):], "\n"))
}

// assignWatch passes a run's log through and notes when the first
// "partition assigned" line arrived.
type assignWatch struct {
	w    *os.File
	mu   sync.Mutex
	tail []byte // the end of the previous write: a line may come in pieces
	seen time.Time
}

var assignedMarker = []byte(`"msg":"partition assigned"`)

func (a *assignWatch) Write(p []byte) (int, error) {
	a.mu.Lock()
	if a.seen.IsZero() {
		buf := append(a.tail, p...)
		if bytes.Contains(buf, assignedMarker) {
			a.seen = time.Now()
		}
		a.tail = append(a.tail[:0], buf[max(0, len(buf)-len(assignedMarker)):]...)
	}
	a.mu.Unlock()
	return a.w.Write(p)
}

func (a *assignWatch) at() time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.seen
}
