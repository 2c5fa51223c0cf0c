package main

import (
	"cmp"
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/segmentio/kafka-go"

	"github.com/cohortline/cohortline/cmd/internal/configfile"
	"github.com/cohortline/cohortline/deploy/devenv"
	"github.com/cohortline/cohortline/sinks/clickhouse"
)

// Helpers of the fault tests (crash, rebalance, ClickHouse outage, dead
// letters, shutdown): each test gets a data set in a topic of its own, runs
// `run` against it under one fault, and compares what ClickHouse then holds
// with the reference of TestRunEndToEnd (streamingReference), exactly.

// faultSet is one test's data: a fresh topic of e2ePartitions partitions
// holding a generated data set, the same records as NDJSON, and the
// partials the reference computes from them.
type faultSet struct {
	kafka, clickhouse string // the real servers
	name              string // unique: topic and consumer group
	db                string // unique database (and db + "_published")
	dir, ndjson       string
	want              []string
	conn              driver.Conn // direct to ClickHouse, for the tests' own queries
}

// newFaultSet generates genFlags' data set into a new topic and a file, and
// computes the reference; everything is removed at cleanup.
func newFaultSet(t *testing.T, kind string, genFlags ...string) *faultSet {
	t.Helper()
	return newFaultSetVia(t, kind, nil, genFlags...)
}

// newFaultSetVia is newFaultSet with gen producing through genKafka (the
// --kafka flag and its --config) instead of the plaintext listener.
func newFaultSetVia(t *testing.T, kind string, genKafka []string, genFlags ...string) *faultSet {
	t.Helper()
	s := &faultSet{kafka: devenv.Kafka(t), clickhouse: devenv.ClickHouse(t), dir: t.TempDir()}
	suffix := time.Now().UnixNano()
	s.name, s.db = fmt.Sprintf("it-%s-%d", kind, suffix), fmt.Sprintf("it_%s_%d", kind, suffix)
	s.ndjson = filepath.Join(s.dir, "events.ndjson")
	t.Cleanup(func() { deleteTopics(s.kafka, s.name, s.name+".dlq") })
	if genKafka == nil {
		genKafka = []string{"--kafka", s.kafka}
	}
	for _, out := range [][]string{{"--out", s.ndjson}, append(genKafka, "--topic", s.name, "--partitions", fmt.Sprint(e2ePartitions))} {
		if code, _, errOut := runCLI(t, "", append(append([]string{"gen"}, genFlags...), out...)...); code != exitOK {
			t.Fatalf("gen %v: exit %d: %s", out, code, errOut)
		}
	}
	conn, err := ch.Open(&ch.Options{Addr: []string{s.clickhouse}, Protocol: ch.Native})
	if err != nil {
		t.Fatal(err)
	}
	s.conn = conn
	t.Cleanup(func() { conn.Close() })
	t.Cleanup(func() { dropDatabases(t, s.clickhouse, s.db, s.db+"_published") })
	cfg, err := loadConfig(s.writeConfig(t, "spec.yaml", runOptions{}), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	s.want = streamingReference(t, s.ndjson, cfg.Spec)
	return s
}

// runOptions are what a fault test changes in the config of `run`.
type runOptions struct {
	group      string // default: the set's name
	database   string // default: the set's database
	clickhouse string // default: the real server; a chProxy to watch or cut it
	deadLetter string // kafka.dead_letter_topic; default: the pipeline's
	// restartBackoff is kafka.restart_backoff; 0 keeps the default.
	restartBackoff time.Duration
	// retry is clickhouse.retry as a YAML flow mapping; "" keeps the
	// defaults.
	retry string
	// publish is the publish section as a YAML flow mapping; "" turns
	// automatic publishing off (the fault tests check partials only).
	publish string
	// mode is the config's mode; default development.
	mode string
	// specExtra is appended to the cohorts section (e.g. "version: 2").
	specExtra string
	// publishedDatabase defaults to the database + "_published".
	publishedDatabase string
	// cluster is clickhouse.cluster: the remote_servers cluster of
	// Replicated and Distributed tables; "" for one server.
	cluster string
	// idleTimeout is kafka.idle_timeout; default 2s. The reference has no
	// idle closes: a worker that receives nothing for this long mid-data
	// (a rebalance, a stall under load) closes its windows early.
	idleTimeout time.Duration
	// brokers is kafka.brokers; default the plaintext listener.
	brokers string
	// kafkaExtra and clickhouseExtra are lines added to their sections
	// (kafka.tls, kafka.sasl, clickhouse.tls, username, password_file,
	// read_timeout: 2s), indented by two spaces.
	kafkaExtra, clickhouseExtra string
	// maxInFlightFlushes is kafka.max_in_flight_flushes; default 2, not
	// the pipeline's 1: the fault tests kill, cut and rebalance with
	// flushes in flight (pipeline/flusher.go).
	maxInFlightFlushes int
}

// writeConfig writes a config file for `run` into the set's directory: the
// streaming settings of TestRunEndToEnd (which the reference restates), a 2s
// idle timeout to flush the tail, and o.
func (s *faultSet) writeConfig(t *testing.T, file string, o runOptions) string {
	t.Helper()
	o.group, o.database, o.clickhouse = cmp.Or(o.group, s.name), cmp.Or(o.database, s.db), cmp.Or(o.clickhouse, s.clickhouse)
	o.retry = cmp.Or(o.retry, "{}")
	o.publish = cmp.Or(o.publish, "{auto: false}")
	o.mode = cmp.Or(o.mode, configfile.ModeDevelopment)
	o.publishedDatabase = cmp.Or(o.publishedDatabase, o.database+"_published")
	o.idleTimeout = cmp.Or(o.idleTimeout, 2*time.Second)
	o.brokers = cmp.Or(o.brokers, s.kafka)
	o.maxInFlightFlushes = cmp.Or(o.maxInFlightFlushes, 2)
	deadLetter := ""
	if o.deadLetter != "" {
		deadLetter = "\n  dead_letter_topic: " + o.deadLetter
	}
	path := filepath.Join(s.dir, file)
	writeTestFile(t, path, fmt.Sprintf(`mode: %s
kafka:
  brokers: [%s]
  topic: %s
  group: %s%s
  max_out_of_order: %s
  idle_timeout: %s
  restart_backoff: %s
  max_in_flight_flushes: %d%s
cohorts:
  window: 1h
  feature_set: 1 # hourly windows: the pure-eps feature set (fs2's default rho is per day)
  allowed_lateness: %s
  bounds: {events: %d, call_seconds: %d}%s
clickhouse:
  addr: [%s]
  database: %s
  published_database: %s
  retry: %s%s%s
http:
  listen: 127.0.0.1:0 # not the default port: other test processes may run
publish: %s
`, o.mode, o.brokers, s.name, o.group, deadLetter, e2eMaxOutOfOrder, o.idleTimeout, o.restartBackoff, o.maxInFlightFlushes, sectionLines(o.kafkaExtra), e2eLateness, e2eBoundEvents, e2eBoundCallSecs,
		specExtra(o.specExtra), o.clickhouse, o.database, o.publishedDatabase, o.retry, clusterLine(o.cluster), sectionLines(o.clickhouseExtra), o.publish))
	return path
}

// sectionLines indents YAML lines into a section, after a newline.
func sectionLines(yaml string) string {
	if yaml == "" {
		return ""
	}
	return "\n  " + strings.ReplaceAll(strings.TrimRight(yaml, "\n"), "\n", "\n  ")
}

func clusterLine(cluster string) string {
	if cluster == "" {
		return ""
	}
	return "\n  cluster: " + cluster
}

func specExtra(s string) string {
	if s == "" {
		return ""
	}
	return "\n  " + s
}

// client opens the clickhouse package's client on database db (the set's
// when empty) for waitForPartials.
func (s *faultSet) client(t *testing.T, db string) *clickhouse.Client {
	t.Helper()
	db = cmp.Or(db, s.db)
	c, err := clickhouse.Open(t.Context(), clickhouse.Config{Addr: []string{s.clickhouse}, Database: db, PublishedDatabase: db + "_published"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// flushes counts the rows of db's window_progress: one per flush written
// (0 before run has created the table).
func (s *faultSet) flushes(t *testing.T, db string) uint64 {
	t.Helper()
	var n uint64
	row := s.conn.QueryRow(t.Context(), "SELECT count() FROM "+cmp.Or(db, s.db)+".window_progress")
	if err := row.Scan(&n); err != nil {
		return 0
	}
	return n
}

// flushVersions lists, per window and partition, the newest flush version
// in db's window_progress: the version readers use. It fails while run has
// not created the table yet.
func (s *faultSet) flushVersions(ctx context.Context, db string) ([]string, error) {
	rows, err := s.conn.Query(ctx, `SELECT window_start, partition, max(flush_version)
		FROM `+db+`.window_progress GROUP BY window_start, partition ORDER BY window_start, partition`)
	if err != nil {
		return nil, fmt.Errorf("reading flush versions of %s: %w", db, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var start time.Time
		var partition int32
		var version uint64
		if err := rows.Scan(&start, &partition, &version); err != nil {
			return nil, err
		}
		out = append(out, fmt.Sprintf("%s/%d v%d", start.UTC().Format(time.RFC3339), partition, version))
	}
	return out, rows.Err()
}

// groupMembers returns the consumer group's state and, per member, the
// partitions assigned to it (sorted).
func groupMembers(ctx context.Context, addr, group string) (state string, members []kafka.DescribeGroupsResponseMember, err error) {
	client := &kafka.Client{Addr: kafka.TCP(addr), Timeout: 10 * time.Second}
	resp, err := client.DescribeGroups(ctx, &kafka.DescribeGroupsRequest{GroupIDs: []string{group}})
	if err != nil {
		return "", nil, err
	}
	if len(resp.Groups) != 1 {
		return "", nil, fmt.Errorf("describing group %q: %d groups in the answer", group, len(resp.Groups))
	}
	g := resp.Groups[0]
	return g.GroupState, g.Members, g.Error
}

// partitionsOf returns each member's partitions of topic, sorted.
func partitionsOf(members []kafka.DescribeGroupsResponseMember, topic string) [][]int {
	var out [][]int
	for _, m := range members {
		var ps []int
		for _, tp := range m.MemberAssignments.Topics {
			if tp.Topic == topic {
				ps = append(ps, tp.Partitions...)
			}
		}
		slices.Sort(ps)
		out = append(out, ps)
	}
	return out
}

// waitForSplit polls the group until it is stable with one member per
// element of sizes, holding that many partitions of topic each, and returns
// the assignment.
func waitForSplit(t *testing.T, addr, group, topic string, sizes []int, timeout time.Duration) [][]int {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) {
		state, members, err := groupMembers(t.Context(), addr, group)
		parts := partitionsOf(members, topic)
		last = fmt.Sprintf("state %q, assignment %v, err %v", state, parts, err)
		var got []int
		for _, ps := range parts {
			got = append(got, len(ps))
		}
		if err == nil && state == "Stable" && slices.Equal(got, sizes) {
			return parts
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("group %s: after %v %s, want Stable with members of %v partitions", group, timeout, last, sizes)
	return nil
}

// evictMembers removes every member from the consumer group. After a kill
// -9 the dead member keeps its partitions until its session times out
// (kafka-go's default, 30s): the next process would wait for that. The
// test only shortens the wait; what the restarted process reads is the same.
func evictMembers(t *testing.T, addr, group string) {
	t.Helper()
	_, members, err := groupMembers(t.Context(), addr, group)
	if err != nil || len(members) == 0 {
		return
	}
	req := &kafka.LeaveGroupRequest{GroupID: group}
	for _, m := range members {
		req.Members = append(req.Members, kafka.LeaveGroupRequestMember{ID: m.MemberID})
	}
	client := &kafka.Client{Addr: kafka.TCP(addr), Timeout: 10 * time.Second}
	if resp, err := client.LeaveGroup(t.Context(), req); err != nil || resp.Error != nil {
		t.Logf("evicting the dead members of group %s: %v %v", group, err, resp)
	}
}
