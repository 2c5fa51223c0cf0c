package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/cohortline/cohortline/cmd/internal/console"
)

// scaleRow is one row of the scale-out (issue 18): Instances processes of
// `cohortline run` in one consumer group over stage (b)'s topic. The
// one-instance row is stage (b) itself.
type scaleRow struct {
	Instances int
	Run       runResult
}

// scaleOutStage runs stage (b) again with each count of instances in
// --scale-out. On one machine the instances share its cores with each
// other and the servers, so events/s shows the cap of the machine, and
// events per CPU-second (the processes' CPU summed) what more instances
// cost: the figure that carries to machines with more cores.
func (b *bench) scaleOutStage(ctx context.Context, topic string, ranges []partitionRange, single runResult) ([]scaleRow, error) {
	var rows []scaleRow
	for _, n := range b.opts.ScaleOut {
		if n == 1 {
			rows = append(rows, scaleRow{Instances: 1, Run: single})
			continue
		}
		b.logf("scale-out: %d instances of cohortline run in one group, consuming %d messages…", n, messages(ranges))
		r, err := b.runCohortline(ctx, runSpec{label: fmt.Sprintf("scale-%d", n), topic: topic, ranges: ranges, instances: n})
		if err != nil {
			return nil, fmt.Errorf("scale-out, %d instances: %w", n, err)
		}
		b.logf("scale-out, %d instances: %s", n, rateOf(r.Messages, r.Wall))
		rows = append(rows, scaleRow{Instances: n, Run: r})
	}
	return rows, nil
}

// sameOutput reports whether a scale-out run wrote what stage (b) wrote:
// the same partial rows, events and users, and no partial twice.
func (row scaleRow) sameOutput(single runResult) bool {
	p, q := row.Run.Partials, single.Partials
	return p.Duplicates == 0 && p.Rows == q.Rows && p.Events == q.Events && p.Users == q.Users && p.Windows == q.Windows
}

func (r *report) scaleOut(w io.Writer) {
	fmt.Fprintf(w, "scale-out: instances of `cohortline run` in one consumer group over the (b) topic (%d partitions), all on this machine's %d cores with the servers\n",
		r.opts.Partitions, r.Machine.CPUs)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "instances\twall s\tstartup s\tevents/s\tcohortline CPU s\tevents per CPU-s\tClickHouse CPU s\tlargest RSS\tsame partials as (b)\t")
	for _, row := range r.ScaleOut {
		run := row.Run
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", row.Instances, secs(run.Wall), secs(run.Startup),
			console.Short(console.PerSecond(run.Messages, run.Wall)), secs(run.CPU), console.Short(console.PerSecond(run.Messages, run.CPU)),
			secsOrNA(run.ClickHouse.CPU, r.chSampled), mib(run.PeakRSS), yesNo(row.sameOutput(r.Run)))
	}
	tw.Flush()
}

func yesNo(ok bool) string {
	if ok {
		return "yes"
	}
	return "NO"
}
