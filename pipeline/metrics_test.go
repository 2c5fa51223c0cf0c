package pipeline

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cohortline/cohortline/cohorts"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/segmentio/kafka-go"

	"github.com/cohortline/cohortline/schemas/synth"

	"github.com/cohortline/cohortline/pipeline/pipelinetest"
)

// metricsRig is a consumer that never connects, with one worker wired to
// it as consumePartition wires its workers: the worker's counters and
// gauges are those the consumer's collector reads.
type metricsRig struct {
	consumer *Consumer
	reg      *prometheus.Registry
	worker   *Worker
	sink     *pipelinetest.MemorySink
	dead     *memoryDeadLetters
	commits  int
}

func newMetricsRig(t *testing.T, cfg WorkerConfig, partition int) *metricsRig {
	t.Helper()
	c, err := NewConsumer(Config{Brokers: []string{"127.0.0.1:1"}, Topic: "activity"}, cfg.Spec, cfg.Rekey, pipelinetest.NewMemorySink(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	r := &metricsRig{consumer: c, reg: prometheus.NewRegistry(), sink: pipelinetest.NewMemorySink(), dead: &memoryDeadLetters{}}
	r.reg.MustRegister(NewMetrics(c))
	commit := func(context.Context, int64) error { r.commits++; return nil }
	r.worker = NewWorker(cfg, "activity", partition, r.sink, r.dead, commit, c.countersOf(partition))
	r.worker.gauges = c.attach(partition)
	if err := r.worker.Resume(t.Context()); err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *metricsRig) feed(t *testing.T, msgs ...kafka.Message) {
	t.Helper()
	for _, m := range msgs {
		if err := r.worker.Handle(t.Context(), m); err != nil {
			t.Fatalf("offset %d: %v", m.Offset, err)
		}
	}
}

// gathered returns every sample of the registry by `name{label="v",…}`
// (labels sorted); a histogram gives its _count and _sum.
func gathered(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			name := f.GetName() + "{" + strings.Join(labels, ",") + "}"
			switch {
			case m.GetHistogram() != nil:
				out[f.GetName()+"_count{"+strings.Join(labels, ",")+"}"] = float64(m.GetHistogram().GetSampleCount())
				out[f.GetName()+"_sum{"+strings.Join(labels, ",")+"}"] = m.GetHistogram().GetSampleSum()
			case m.GetCounter() != nil:
				out[name] = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				out[name] = m.GetGauge().GetValue()
			}
		}
	}
	return out
}

// The collector reports what the worker did, message by message, in the
// exposition format: the outcomes, the dead letters by reason class, the
// key mismatch, the flush and its commit, the watermark and open windows.
func TestMetricsCollectorOutput(t *testing.T) {
	r := newMetricsRig(t, testWorkerConfig(t, time.Hour, 0), 3)
	r.feed(t, policyMessages(t)...)
	const want = `
# HELP cohortline_commits_total Offsets committed to the consumer group (each once the sink acknowledged what they cover).
# TYPE cohortline_commits_total counter
cohortline_commits_total{partition="3"} 1
# HELP cohortline_dead_letters_total Messages sent to the dead-letter topic, by reason class (the reason code before its colon).
# TYPE cohortline_dead_letters_total counter
cohortline_dead_letters_total{partition="3",reason="bad_value"} 0
cohortline_dead_letters_total{partition="3",reason="duplicate_field"} 0
cohortline_dead_letters_total{partition="3",reason="key_mismatch"} 1
cohortline_dead_letters_total{partition="3",reason="malformed_json"} 1
cohortline_dead_letters_total{partition="3",reason="missing_field"} 0
cohortline_dead_letters_total{partition="3",reason="other"} 0
cohortline_dead_letters_total{partition="3",reason="pii_suspected"} 1
cohortline_dead_letters_total{partition="3",reason="too_large"} 0
cohortline_dead_letters_total{partition="3",reason="ts_out_of_range"} 0
# HELP cohortline_events_total Messages handled by the partition workers, by outcome: counted, bounded (over the user's contribution bound), duplicate, late, minor, sensitive (excluded), overflow (a window too full for a new user), rejected (dead-lettered).
# TYPE cohortline_events_total counter
cohortline_events_total{outcome="bounded",partition="3"} 0
cohortline_events_total{outcome="counted",partition="3"} 2
cohortline_events_total{outcome="duplicate",partition="3"} 0
cohortline_events_total{outcome="late",partition="3"} 1
cohortline_events_total{outcome="minor",partition="3"} 1
cohortline_events_total{outcome="overflow",partition="3"} 0
cohortline_events_total{outcome="rejected",partition="3"} 3
cohortline_events_total{outcome="sensitive",partition="3"} 1
# HELP cohortline_flushes_total Windows of a partition written to the sink.
# TYPE cohortline_flushes_total counter
cohortline_flushes_total{partition="3"} 1
# HELP cohortline_key_mismatch_total Messages whose Kafka key is not the event's user token, or null: dead-lettered as key_mismatch and never counted (one person in several partitions would count as several).
# TYPE cohortline_key_mismatch_total counter
cohortline_key_mismatch_total{partition="3"} 1
# HELP cohortline_open_windows Windows of an assigned partition that are open (not yet flushed).
# TYPE cohortline_open_windows gauge
cohortline_open_windows{partition="3"} 1
# HELP cohortline_worker_restarts_total Partition workers restarted from the last commit after a failure.
# TYPE cohortline_worker_restarts_total counter
cohortline_worker_restarts_total{partition="3"} 0
`
	names := []string{"cohortline_commits_total", "cohortline_dead_letters_total", "cohortline_events_total", "cohortline_flushes_total",
		"cohortline_key_mismatch_total", "cohortline_open_windows", "cohortline_worker_restarts_total"}
	if err := testutil.GatherAndCompare(r.reg, strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}
	got := gathered(t, r.reg)
	// testWorkerConfig's watermark trails the newest event by 10s.
	if w, want := got[`cohortline_watermark_seconds{partition="3"}`], float64(t0.Add(61*time.Minute-10*time.Second).Unix()); w != want {
		t.Errorf("watermark %v, want %v", w, want)
	}
	if n := got[`cohortline_window_flush_seconds_count{}`]; n != 1 {
		t.Errorf("flush latency histogram has %v samples, want 1", n)
	}
	if _, ok := got[`cohortline_lag_messages{partition="3"}`]; ok {
		t.Error("lag reported before any reader fetched a message")
	}
	if n, ok := got[`cohortline_window_state_mapped_bytes{}`]; !ok || n != float64(cohorts.SlabBytes()) {
		t.Errorf("mapped state %v (reported: %v), want cohorts.SlabBytes() = %d", n, ok, cohorts.SlabBytes())
	}
}

// generated is a synthetic partition with what a test needs to check the
// metrics of a run over it.
type generated struct {
	msgs       []kafka.Message
	stats      synth.Stats
	tokens     map[string]bool // user tokens
	ids        map[string]bool // event ids
	badByClass map[string]uint64
}

func generate(t *testing.T, events int64) generated {
	t.Helper()
	cfg := synth.DefaultConfig()
	cfg.Seed, cfg.Users, cfg.Events, cfg.Span = 5, 500, events, 8*time.Hour
	cfg.Bad = 0.02
	g, err := synth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	out := generated{tokens: map[string]bool{}, ids: map[string]bool{}, badByClass: map[string]uint64{}}
	for rec, ok := g.Next(); ok; rec, ok = g.Next() {
		out.msgs = append(out.msgs, kafka.Message{
			Topic: "activity", Partition: 0, Offset: int64(len(out.msgs)),
			Key: slices.Clone(rec.Key), Value: slices.Clone(rec.Line),
		})
		out.tokens[string(rec.Key)] = true
		if rec.Event != nil {
			out.tokens[string(rec.Event.User)] = true
			out.ids[string(rec.Event.ID)] = true
		}
		if rec.Kind == synth.RecordBad {
			out.badByClass[rec.BadClass.String()]++
		}
	}
	out.stats = g.Stats()
	return out
}

// Over generated data (every fault of the generator included), the
// counters add up: each message has exactly one outcome, the rejected ones
// are the generator's bad records by class, and flushes, commits, the flush
// latency histogram and the gauges agree with what the worker did.
func TestMetricsOfAWorkerOnGeneratedData(t *testing.T) {
	data := generate(t, 40000)
	r := newMetricsRig(t, testWorkerConfig(t, time.Hour, 5*time.Minute), 0)
	r.feed(t, data.msgs...)
	got := gathered(t, r.reg)
	p := `partition="0"`

	var outcomes float64
	for _, o := range eventOutcomes {
		outcomes += got[`cohortline_events_total{outcome="`+o.name+`",`+p+`}`]
	}
	if outcomes != float64(len(data.msgs)) {
		t.Errorf("events_total sums to %v over the outcomes, want one per message: %d", outcomes, len(data.msgs))
	}
	if n := got[`cohortline_events_total{outcome="rejected",`+p+`}`]; n != float64(data.stats.Bad) {
		t.Errorf("rejected %v, want the %d bad records", n, data.stats.Bad)
	}
	for _, class := range rejectClasses {
		if n := got[`cohortline_dead_letters_total{`+p+`,reason="`+class+`"}`]; n != float64(data.badByClass[class]) {
			t.Errorf("dead letters %s: %v, want %d", class, n, data.badByClass[class])
		}
	}
	for _, outcome := range []string{"counted", "bounded", "duplicate", "late", "minor"} {
		if got[`cohortline_events_total{outcome="`+outcome+`",`+p+`}`] == 0 {
			t.Errorf("no %s event: the generated data should have some", outcome)
		}
	}
	if n := got[`cohortline_key_mismatch_total{`+p+`}`]; n != 0 {
		t.Errorf("key mismatches %v; the generator keys by token", n)
	}
	flushes := got[`cohortline_flushes_total{`+p+`}`]
	if flushes != float64(r.sink.Writes) || flushes < 6 {
		t.Errorf("flushes_total %v, want the sink's %d writes (several)", flushes, r.sink.Writes)
	}
	if n := got[`cohortline_window_flush_seconds_count{}`]; n != flushes {
		t.Errorf("flush latency histogram has %v samples, want one per flush: %v", n, flushes)
	}
	if n := got[`cohortline_commits_total{`+p+`}`]; n != float64(r.commits) || n == 0 {
		t.Errorf("commits_total %v, want the %d commits made", n, r.commits)
	}
	if wm := got[`cohortline_watermark_seconds{`+p+`}`]; wm != float64(r.worker.wm.value)/1000 {
		t.Errorf("watermark %v, want the worker's %v", wm, float64(r.worker.wm.value)/1000)
	}
	if n := got[`cohortline_open_windows{`+p+`}`]; n != float64(len(r.worker.open)) || n == 0 {
		t.Errorf("open windows %v, want the worker's %d", n, len(r.worker.open))
	}

	// A revoked partition keeps its counters (they are totals of this
	// process) but loses its gauges.
	r.consumer.detach(0, r.worker.gauges)
	got = gathered(t, r.reg)
	if _, ok := got[`cohortline_watermark_seconds{`+p+`}`]; ok {
		t.Error("watermark still reported after the partition was revoked")
	}
	if got[`cohortline_flushes_total{`+p+`}`] != flushes {
		t.Error("counters lost with the revoke")
	}
}

// loggingDeadLetters keeps dead letters in memory and logs each batch it
// makes durable as the Kafka dead-letter writer does.
type loggingDeadLetters struct {
	memoryDeadLetters
	kafka *kafkaDeadLetters
}

func (d *loggingDeadLetters) Add(ctx context.Context, dl DeadLetter) error {
	d.kafka.classes[rejectClass(dl.Reason)]++
	d.kafka.buf = append(d.kafka.buf, kafka.Message{})
	return d.memoryDeadLetters.Add(ctx, dl)
}

func (d *loggingDeadLetters) Flush(ctx context.Context) error {
	if len(d.kafka.buf) > 0 {
		d.kafka.logWritten()
		d.kafka.buf = d.kafka.buf[:0]
	}
	return d.memoryDeadLetters.Flush(ctx)
}

// Privacy invariant 1 for metrics and logs: after a worker ran over
// generated data, no label value is anything but a partition number or a
// value of a fixed set, and neither the metrics text nor the log lines
// contain a user token, its re-keyed value or an event id.
func TestMetricsAndLogsCarryNoPersonalValue(t *testing.T) {
	data := generate(t, 20000)
	cfg := testWorkerConfig(t, time.Hour, 5*time.Minute)
	r := newMetricsRig(t, cfg, 7)
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	dead := &loggingDeadLetters{kafka: newKafkaDeadLetters(&kafka.Writer{Topic: "activity.dlq"}, 1000, 7, log)}
	r.worker.dead, r.worker.log = dead, log
	r.feed(t, data.msgs...)
	if err := r.worker.Idle(t.Context(), time.UnixMilli(r.worker.wm.value).Add(48*time.Hour)); err != nil {
		t.Fatal(err) // closes every window: one more flush and dead-letter batch
	}

	allowed := map[string]map[string]bool{"outcome": {}, "reason": {}}
	for _, o := range eventOutcomes {
		allowed["outcome"][o.name] = true
	}
	for _, c := range rejectClasses {
		allowed["reason"][c] = true
	}
	families, err := r.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				name, value := l.GetName(), l.GetValue()
				if name == "partition" {
					if _, err := strconv.Atoi(value); err != nil {
						t.Errorf("%s: partition label %q is not a number", f.GetName(), value)
					}
					continue
				}
				if set, ok := allowed[name]; !ok || !set[value] {
					t.Errorf("%s: label %s=%q is outside the fixed sets", f.GetName(), name, value)
				}
			}
		}
	}

	scrape := httptest.NewRecorder()
	promhttp.HandlerFor(r.reg, promhttp.HandlerOpts{}).ServeHTTP(scrape, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	text := scrape.Body.String()
	if !strings.Contains(text, "cohortline_events_total{") {
		t.Fatalf("scrape without the pipeline's metrics:\n%.2000s", text)
	}
	if !strings.Contains(logs.String(), `"msg":"window flushed"`) || !strings.Contains(logs.String(), `"msg":"dead letters written"`) {
		t.Fatalf("the run logged no flush or dead-letter batch; nothing was checked:\n%.2000s", logs.String())
	}
	haystacks := map[string]string{"metrics": text, "logs": logs.String()}
	checked := 0
	for token := range data.tokens {
		rekeyed := cfg.Rekey.User([]byte(token))
		for _, needle := range []string{token, strconv.FormatUint(uint64(rekeyed), 10), strconv.FormatUint(uint64(rekeyed), 16)} {
			for what, hay := range haystacks {
				if strings.Contains(hay, needle) {
					t.Errorf("%s contain the user token or its re-keyed value %q", what, needle)
				}
			}
		}
		checked++
	}
	for id := range data.ids {
		for what, hay := range haystacks {
			if strings.Contains(hay, id) {
				t.Errorf("%s contain the event id %q", what, id)
			}
		}
	}
	if checked < 100 || len(data.ids) < 1000 {
		t.Fatalf("checked %d tokens and %d ids: too few", checked, len(data.ids))
	}
}
