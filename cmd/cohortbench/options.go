package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// options are cohortbench's flags. Zero values take the defaults of
// setDefaults, which the flag help repeats.
type options struct {
	Kafka string // broker address; default $COHORTLINE_KAFKA
	// KafkaConfig is a cohortline config file whose kafka.tls and
	// kafka.sasl secure every Kafka connection (kafka_security.go); stages
	// (c) and (d), whose clients are ClickHouse's and Flink's, are skipped
	// with it.
	KafkaConfig string
	kafka       kafkaSecurity // loaded by Validate
	ClickHouse  string        // native-protocol address; default $COHORTLINE_CLICKHOUSE
	Cohortline  string        // the cohortline binary; default bin/cohortline

	Events        int64  // messages in the topic; default 5M
	EventsPerUser int    // users = Events / this; default 10
	Partitions    int    // default 8
	Seed          uint64 // gen --seed; default 5

	IdleTimeout     time.Duration // run's kafka.idle_timeout; default 1s
	EngineConsumers []int         // stage (c) runs, kafka_num_consumers each; default 1, 4
	// Settle is how long the engine's count must stay put, once complete,
	// to call stage (c) done; default 10s (ClickHouse 18.16 flushes a
	// Kafka block at least every stream_flush_interval_ms, 7.5 s).
	Settle time.Duration
	// EngineBlockSize adds a stage (c) run with one consumer and this
	// kafka_max_block_size (ClickHouse's default is max_block_size, 65536
	// rows): the engine tuned as its users are told to. Default 1048576
	// (max_insert_block_size); 0 skips the run.
	EngineBlockSize int
	// Stall ends stage (c) when the count stays put this long without
	// being complete; default 60s.
	Stall time.Duration

	// MemUsers are the rising user populations of the memory curve, two
	// or more (default 1M, 5M and 10M); MemEventsPerUser scales their
	// events (default 2). Empty MemUsers skips them.
	MemUsers         []int
	MemEventsPerUser int

	// ScaleOut are the instance counts of the scale-out runs (default 1,
	// 2, 3; 1 is stage (b) itself). Empty skips them.
	ScaleOut []int
	// CurvePartitions are the rising partition counts of the partition
	// curve, one run over a topic of its own each (default 1, 2, 4, 8,
	// 16; --partitions is stage (b) itself). Empty skips it.
	CurvePartitions []int
	// Plot is where the curves' PNG goes (plot.go); default
	// BENCHMARKS-curves.png, beside BENCHMARKS.md when run from the
	// repository's root as make bench does; "none" skips it.
	Plot string

	// Flink is stage (d): "auto" (default) runs it when java and mvn are
	// on the PATH and says in the report why not otherwise; "on" fails
	// without them; "off" skips it (the report says so).
	Flink string
	// FlinkDir is the job's Maven project; default cmd/cohortbench/flink.
	FlinkDir string
	// MavenRepo is Maven's local repository for the job's build; default
	// Maven's own (~/.m2/repository).
	MavenRepo string
	// FlinkParallelism is the job's parallelism; default the number of CPUs.
	FlinkParallelism int
	// FlinkCheckpointInterval is the job's EXACTLY_ONCE checkpoint
	// interval; default 10s.
	FlinkCheckpointInterval time.Duration
	// ClickHouseHTTP is ClickHouse's HTTP address, for the job's JDBC
	// driver; default --clickhouse's host and $COHORTLINE_CLICKHOUSE_HTTP_PORT
	// (else 18123, deploy/dev's).
	ClickHouseHTTP string

	StageTimeout  time.Duration // any one stage; default 15m
	RunCPUProfile string        // a CPU profile of stage (b)'s cohortline run
	ClickHousePID int           // default: the process listening on the ClickHouse port
	KafkaPID      int           // default: the process listening on the broker port
	Dir           string        // configs and logs; default a temporary directory, removed
}

func (o *options) setDefaults() {
	if o.Kafka == "" {
		o.Kafka = os.Getenv("COHORTLINE_KAFKA")
	}
	if o.ClickHouse == "" {
		o.ClickHouse = os.Getenv("COHORTLINE_CLICKHOUSE")
	}
	if o.Cohortline == "" {
		o.Cohortline = "bin/cohortline"
	}
	if o.Events == 0 {
		o.Events = 5_000_000
	}
	if o.EventsPerUser == 0 {
		o.EventsPerUser = 10
	}
	if o.Partitions == 0 {
		o.Partitions = 8
	}
	if o.Seed == 0 {
		o.Seed = 5
	}
	if o.IdleTimeout == 0 {
		o.IdleTimeout = time.Second
	}
	if o.EngineConsumers == nil {
		o.EngineConsumers = []int{1, 4}
	}
	if o.EngineBlockSize == 0 {
		o.EngineBlockSize = 1 << 20
	}
	if o.Settle == 0 {
		o.Settle = 10 * time.Second
	}
	if o.Stall == 0 {
		o.Stall = time.Minute
	}
	if o.MemUsers == nil {
		o.MemUsers = []int{1_000_000, 5_000_000, 10_000_000}
	}
	if o.MemEventsPerUser == 0 {
		o.MemEventsPerUser = 2
	}
	if o.ScaleOut == nil {
		o.ScaleOut = []int{1, 2, 3}
	}
	if o.CurvePartitions == nil {
		o.CurvePartitions = []int{1, 2, 4, 8, 16}
	}
	if o.Plot == "" {
		o.Plot = "BENCHMARKS-curves.png"
	}
	if o.StageTimeout == 0 {
		o.StageTimeout = 15 * time.Minute
	}
	if o.Flink == "" {
		o.Flink = "auto"
	}
	if o.FlinkDir == "" {
		o.FlinkDir = filepath.Join("cmd", "cohortbench", "flink")
	}
	if o.FlinkParallelism == 0 {
		o.FlinkParallelism = runtime.NumCPU()
	}
	if o.FlinkCheckpointInterval == 0 {
		o.FlinkCheckpointInterval = 10 * time.Second
	}
	if o.ClickHouseHTTP == "" {
		port := os.Getenv("COHORTLINE_CLICKHOUSE_HTTP_PORT")
		if port == "" {
			port = "18123"
		}
		if host, _, err := net.SplitHostPort(o.ClickHouse); err == nil {
			o.ClickHouseHTTP = net.JoinHostPort(host, port)
		}
	}
}

// Validate applies the defaults and checks o; errors name the flag.
func (o *options) Validate() error {
	o.setDefaults()
	var errs []error
	if o.Kafka == "" {
		errs = append(errs, errors.New("--kafka: required (or COHORTLINE_KAFKA): the broker's address"))
	}
	if o.ClickHouse == "" {
		errs = append(errs, errors.New("--clickhouse: required (or COHORTLINE_CLICKHOUSE): ClickHouse's native-protocol address"))
	}
	if o.Events < 1 || o.EventsPerUser < 1 || o.Partitions < 1 || o.MemEventsPerUser < 1 {
		errs = append(errs, errors.New("--events, --events-per-user, --partitions and --mem-events-per-user must be at least 1"))
	}
	if len(o.MemUsers) != 0 && (len(o.MemUsers) < 2 || !risingFromOne(o.MemUsers)) {
		errs = append(errs, fmt.Errorf("--mem-users: %v, want two or more rising populations of at least 1, or none", o.MemUsers))
	}
	if !risingFromOne(o.ScaleOut) || len(o.ScaleOut) > 0 && o.ScaleOut[len(o.ScaleOut)-1] > o.Partitions {
		errs = append(errs, fmt.Errorf("--scale-out: %v, want rising instance counts from 1 to --partitions (%d), or none", o.ScaleOut, o.Partitions))
	}
	if !risingFromOne(o.CurvePartitions) {
		errs = append(errs, fmt.Errorf("--curve-partitions: %v, want rising partition counts of at least 1, or none", o.CurvePartitions))
	}
	if o.Plot != "none" {
		// Found out now, not after the stages have run.
		if st, err := os.Stat(filepath.Dir(o.Plot)); err != nil || !st.IsDir() {
			errs = append(errs, fmt.Errorf("--plot %s: its directory %s does not exist (or \"none\" skips the plot)", o.Plot, filepath.Dir(o.Plot)))
		}
	}
	var err error
	if o.kafka, err = loadKafkaSecurity(o.KafkaConfig); err != nil {
		errs = append(errs, err)
	}
	for _, n := range o.EngineConsumers {
		if n < 1 {
			errs = append(errs, fmt.Errorf("--engine-consumers: %d, want at least 1", n))
		}
	}
	switch o.Flink {
	case "auto", "on", "off":
	default:
		errs = append(errs, fmt.Errorf("--flink: %q, want auto, on or off", o.Flink))
	}
	if o.Flink != "off" {
		if _, err := os.Stat(filepath.Join(o.FlinkDir, "pom.xml")); err != nil {
			errs = append(errs, fmt.Errorf("--flink-dir: %v (run from the repository's root, or pass --flink off)", err))
		}
	}
	if o.FlinkParallelism < 1 || o.FlinkCheckpointInterval < 10*time.Millisecond {
		errs = append(errs, errors.New("--flink-parallelism must be at least 1 and --flink-checkpoint-interval at least 10ms"))
	}
	if o.Stall <= o.Settle {
		errs = append(errs, fmt.Errorf("--stall %s must be longer than --settle %s", o.Stall, o.Settle))
	}
	return errors.Join(errs...)
}

// parseFlags reads the command line into options.
func parseFlags(args []string, output io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("cohortbench", flag.ContinueOnError)
	fs.SetOutput(output)
	o.sharedFlags(fs, "; skips stages (c) and (d)")
	fs.Int64Var(&o.Events, "events", 5_000_000, "messages in the benchmark topic")
	fs.IntVar(&o.EventsPerUser, "events-per-user", 10, "users = events / this")
	fs.DurationVar(&o.IdleTimeout, "idle-timeout", time.Second, "kafka.idle_timeout of the cohortline runs; subtracted from their time")
	fs.Func("engine-consumers", "comma-separated kafka_num_consumers of the stage (c) runs (default 1,4)", func(s string) (err error) {
		o.EngineConsumers, err = parseInts(s)
		return err
	})
	fs.IntVar(&o.EngineBlockSize, "engine-max-block-size", 1<<20, "add a stage (c) run with 1 consumer and this kafka_max_block_size (-1: none)")
	fs.DurationVar(&o.Settle, "settle", 10*time.Second, "stage (c) is done once its complete count stayed put this long")
	fs.DurationVar(&o.Stall, "stall", time.Minute, "stage (c) gives up once its count stayed put this long, complete or not")
	fs.Func("mem-users", `the rising user populations of the memory curve, two or more, e.g. 1000000,5000000,10000000 (default); "none" skips them`, intsOrNone(&o.MemUsers))
	fs.IntVar(&o.MemEventsPerUser, "mem-events-per-user", 2, "events per user in the memory runs")
	fs.Func("scale-out", `instance counts of the scale-out runs of stage (b), one consumer group each, e.g. 1,2,3 (default); "none" skips them`, intsOrNone(&o.ScaleOut))
	fs.Func("curve-partitions", `rising partition counts of the partition curve, one run of stage (b) over a topic of its own each, e.g. 1,2,4,8,16 (default); "none" skips it`, intsOrNone(&o.CurvePartitions))
	fs.StringVar(&o.Plot, "plot", "BENCHMARKS-curves.png", `write the PNG plot of the partition and memory curves here; "none" skips it`)
	fs.StringVar(&o.Flink, "flink", "auto", `stage (d), the Flink job: "auto" runs it if java and mvn are on the PATH, "on" requires them, "off" skips it`)
	fs.StringVar(&o.FlinkDir, "flink-dir", filepath.Join("cmd", "cohortbench", "flink"), "the Flink job's Maven project")
	fs.StringVar(&o.MavenRepo, "maven-repo", "", "Maven's local repository for the Flink job's build (default ~/.m2/repository)")
	fs.IntVar(&o.FlinkParallelism, "flink-parallelism", runtime.NumCPU(), "the Flink job's parallelism")
	fs.DurationVar(&o.FlinkCheckpointInterval, "flink-checkpoint-interval", 10*time.Second, "the Flink job's EXACTLY_ONCE checkpoint interval")
	fs.StringVar(&o.ClickHouseHTTP, "clickhouse-http", "", "ClickHouse's HTTP address, for the Flink job's JDBC driver (default --clickhouse's host, port $COHORTLINE_CLICKHOUSE_HTTP_PORT or 18123)")
	fs.DurationVar(&o.StageTimeout, "stage-timeout", 15*time.Minute, "fail a stage that takes longer")
	fs.StringVar(&o.RunCPUProfile, "run-cpuprofile", "", "write a CPU profile of stage (b)'s cohortline run to this file")
	fs.IntVar(&o.ClickHousePID, "clickhouse-pid", 0, "pid of the ClickHouse server (default: the process listening on its port)")
	fs.IntVar(&o.KafkaPID, "kafka-pid", 0, "pid of the Kafka broker (default: the process listening on its port)")
	if err := fs.Parse(args); err != nil {
		return options{}, err
	}
	if fs.NArg() > 0 {
		return options{}, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	return o, o.Validate()
}

// sharedFlags defines the flags of what the benchmark and the soak share:
// the servers, the binary, the topic's partitions, the seed, --dir.
// kafkaConfigNote ends --kafka-config's help.
func (o *options) sharedFlags(fs *flag.FlagSet, kafkaConfigNote string) {
	fs.StringVar(&o.Kafka, "kafka", "", "Kafka broker address (default $COHORTLINE_KAFKA)")
	fs.StringVar(&o.KafkaConfig, "kafka-config", "", "cohortline config file whose kafka.tls and kafka.sasl secure every Kafka connection it makes (--kafka a secured listener)"+kafkaConfigNote)
	fs.StringVar(&o.ClickHouse, "clickhouse", "", "ClickHouse native-protocol address (default $COHORTLINE_CLICKHOUSE)")
	fs.StringVar(&o.Cohortline, "cohortline", "bin/cohortline", "the cohortline binary (make build)")
	fs.IntVar(&o.Partitions, "partitions", 8, "partitions of the topic it creates")
	fs.Uint64Var(&o.Seed, "seed", 5, "the generator's seed (gen --seed)")
	fs.StringVar(&o.Dir, "dir", "", "keep the configs and logs of the cohortline runs here (default: a temporary directory, removed)")
}

// risingFromOne reports whether ns rise strictly from at least 1.
func risingFromOne(ns []int) bool {
	for i, n := range ns {
		if n < 1 || i > 0 && n <= ns[i-1] {
			return false
		}
	}
	return true
}

// intsOrNone parses a flag's comma-separated integers into dst; "none"
// sets it to an empty list, which skips what the list is for (nil would
// take the default).
func intsOrNone(dst *[]int) func(string) error {
	return func(s string) (err error) {
		if s == "none" {
			*dst = []int{}
			return nil
		}
		*dst, err = parseInts(s)
		return err
	}
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return nil, fmt.Errorf("%q is not a list of integers", s)
		}
		out = append(out, n)
	}
	return out, nil
}
