package main

import (
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/cohortline/cohortline/cmd/internal/console"
)

// partitionPanel is the left panel: events/s and CPU per event against
// the partition count.
func partitionPanel(rows []curveRow) panel {
	p := panel{
		title: "partition curve: one cohortline run over N partitions", xLabel: "partitions (log scale)",
		noData: "--curve-partitions none", logX: true,
		xTick: func(x float64) string { return strconv.Itoa(int(x)) },
		left:  plotLine{name: "events/s", color: colorEvents, tick: console.Short},
		right: &plotLine{name: "CPU-us/event", color: colorCPU, tick: func(v float64) string { return strconv.FormatFloat(v, 'g', 3, 64) }},
	}
	for _, row := range rows {
		p.xs = append(p.xs, float64(row.Partitions))
		p.left.ys = append(p.left.ys, row.eventsPerSecond())
		p.right.ys = append(p.right.ys, row.cpuMicrosPerEvent())
	}
	return p
}

// memoryPanel is the right panel: peak RSS against active users, from 0,
// so that the runtime's baseline shows where the line meets the y axis.
func memoryPanel(m *memoryResult) panel {
	p := panel{
		title: "memory curve: all events in one window", xLabel: "active users",
		noData: "--mem-users none",
		xTick:  console.Short,
		left:   plotLine{name: "peak RSS MiB", color: colorRSS, tick: func(v float64) string { return strconv.FormatFloat(v, 'f', 0, 64) }},
	}
	if m == nil {
		return p
	}
	for _, pt := range m.Points {
		p.xs = append(p.xs, float64(pt.Active))
		p.left.ys = append(p.left.ys, float64(pt.PeakRSS)/(1<<20))
	}
	return p
}

// drawPlot writes the curves' PNG to --plot and notes in the report what
// became of it. A failed write is kept for run to fail on, after the
// report is printed: the figures are not lost with the picture.
func (r *report) drawPlot() {
	path := r.opts.Plot
	if path == "none" {
		r.PlotNote = "skipped (--plot none)"
		return
	}
	caption := fmt.Sprintf("cohortbench, %s, %d events, %d CPUs shared with the broker and ClickHouse",
		r.Began.UTC().Format("2006-01-02 15:04 MST"), r.Events, r.Machine.CPUs)
	img, err := renderCurves(partitionPanel(r.Curve), memoryPanel(r.Memory), caption)
	switch {
	case errors.Is(err, errNoCurves):
		r.PlotNote = "not drawn: no curve was measured (--curve-partitions none, --mem-users none)"
		return
	case err == nil:
		err = writePNG(path, img)
	}
	if err != nil {
		r.plotErr = err
		r.PlotNote = "NOT written: " + err.Error()
		return
	}
	r.PlotNote = "written to " + path + " (left: the partition curve, right: the memory curve)"
}

func (r *report) plotStatus(w io.Writer) {
	fmt.Fprintf(w, "plot: %s\n", r.PlotNote)
}
