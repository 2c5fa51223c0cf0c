package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/cohortline/cohortline/cmd/internal/console"
)

// curveRow is one point of the partition curve (issue 19): one `cohortline
// run`, one instance, over a topic of Partitions partitions holding stage
// (b)'s events.
type curveRow struct {
	Partitions int
	Run        runResult
	// IsStageB says the row is stage (b)'s own run, Partitions being
	// --partitions: the same run is not made twice.
	IsStageB bool
}

// eventsPerSecond is the run's rate, startup included, as (b)'s.
func (row curveRow) eventsPerSecond() float64 {
	return console.PerSecond(row.Run.Messages, row.Run.Wall)
}

// cpuMicrosPerEvent is cohortline's CPU per message in microseconds: what
// an event costs, whatever the cores it had.
func (row curveRow) cpuMicrosPerEvent() float64 {
	if row.Run.Messages == 0 {
		return 0
	}
	return row.Run.CPU.Seconds() * 1e6 / float64(row.Run.Messages)
}

// eventsVsStageB is how many more events the run's partials counted than
// stage (b)'s: not 0 as a rule, nor a fault. Late events are dropped by
// each partition's own watermark (allowed lateness 0), and a watermark
// moves with its partition's users, so which events come late depends on
// how the users are spread over the partitions. The scale-out, over (b)'s
// own topic, must match (b) exactly (scaleRow.sameOutput); a curve's run
// is held to what (b) itself is: no partial written twice.
func (row curveRow) eventsVsStageB(single runResult) int64 {
	return int64(row.Run.Partials.Events) - int64(single.Partials.Events)
}

// partitionCurveStage runs stage (b) once per count in --curve-partitions,
// each over a topic of its own with that many partitions and (b)'s events,
// so that events/s and CPU per event show what partitions cost and buy.
// The count equal to --partitions is stage (b) itself.
func (b *bench) partitionCurveStage(ctx context.Context, single runResult) ([]curveRow, error) {
	var rows []curveRow
	for _, n := range b.opts.CurvePartitions {
		if n == b.opts.Partitions {
			rows = append(rows, curveRow{Partitions: n, Run: single, IsStageB: true})
			continue
		}
		r, err := b.curvePoint(ctx, n)
		if err != nil {
			return nil, fmt.Errorf("partition curve, %d partitions: %w", n, err)
		}
		rows = append(rows, curveRow{Partitions: n, Run: r})
	}
	return rows, nil
}

// curvePoint generates (b)'s events into a topic of n partitions, runs
// cohortline over it, and deletes the topic at once to free the broker's
// disk for the next one.
func (b *bench) curvePoint(ctx context.Context, n int) (runResult, error) {
	label := fmt.Sprintf("curve-%d", n)
	topic := b.name(label)
	b.cleanup(func(ctx context.Context) error { return b.kafka.deleteTopics(ctx, topic) })
	ranges, _, err := b.genBenchTopic(ctx, topic, n)
	if err != nil {
		return runResult{}, err
	}
	b.logf("partition curve: cohortline run over %d partitions, consuming %d messages…", n, messages(ranges))
	r, err := b.runCohortline(ctx, runSpec{label: label, topic: topic, ranges: ranges})
	if err != nil {
		return runResult{}, err
	}
	b.logf("partition curve, %d partitions: %s", n, rateOf(r.Messages, r.Wall))
	if err := b.kafka.deleteTopics(ctx, topic); err != nil {
		return runResult{}, fmt.Errorf("deleting topic %s: %w", topic, err)
	}
	return r, nil
}

func (r *report) partitionCurve(w io.Writer) {
	fmt.Fprintf(w, "partition curve: one `cohortline run` over a topic of N partitions holding the (b) topic's events, on this machine's %d cores with the servers\n",
		r.Machine.CPUs)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "partitions\twall s\tevents/s\tcohortline CPU s\tCPU-µs/event\tpeak RSS\tduplicate partials\tevents counted vs (b)\t")
	for _, row := range r.Curve {
		vs := "is (b)"
		if !row.IsStageB {
			d := row.eventsVsStageB(r.Run)
			vs = fmt.Sprintf("%+d (%+.3f%%)", d, 100*float64(d)/float64(max(r.Run.Partials.Events, 1)))
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%.2f\t%s\t%d\t%s\t\n", row.Partitions, secs(row.Run.Wall), console.Short(row.eventsPerSecond()),
			secs(row.Run.CPU), row.cpuMicrosPerEvent(), mib(row.Run.PeakRSS), row.Run.Partials.Duplicates, vs)
	}
	tw.Flush()
}
