package main

import (
	"errors"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// knownCurves are a partition curve and a memory curve whose axis tops
// are their largest values (400k events/s, 8 µs, 10M users, 600 MiB), so
// that every point's place is a simple fraction of its plot area.
func knownCurves() (left, right panel) {
	left = partitionPanel([]curveRow{
		{Partitions: 1, Run: runResult{Messages: 100_000, Wall: 1e9, CPU: 8e8}},  // 100k/s, 8 µs
		{Partitions: 2, Run: runResult{Messages: 200_000, Wall: 1e9, CPU: 12e8}}, // 200k/s, 6 µs
		{Partitions: 4, Run: runResult{Messages: 400_000, Wall: 1e9, CPU: 12e8}}, // 400k/s, 3 µs
	})
	right = memoryPanel(&memoryResult{Points: []memoryPoint{
		{Active: 1_000_000, PeakRSS: 100 << 20},
		{Active: 5_000_000, PeakRSS: 300 << 20},
		{Active: 10_000_000, PeakRSS: 600 << 20},
	}})
	return left, right
}

// colored counts the pixels of c within radius of at.
func colored(img *image.RGBA, at image.Point, radius int, c color.RGBA) int {
	n := 0
	for y := at.Y - radius; y <= at.Y+radius; y++ {
		for x := at.X - radius; x <= at.X+radius; x++ {
			if img.RGBAAt(x, y) == c {
				n++
			}
		}
	}
	return n
}

// coloredIn counts the pixels of c in r.
func coloredIn(img *image.RGBA, r image.Rectangle, c color.RGBA) int {
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if img.RGBAAt(x, y) == c {
				n++
			}
		}
	}
	return n
}

func TestPlotDrawsEachPointWhereItsValueIs(t *testing.T) {
	left, right := knownCurves()
	img, err := renderCurves(left, right, "test")
	if err != nil {
		t.Fatal(err)
	}
	if got := img.Bounds().Size(); got != image.Pt(plotWidth, plotHeight) {
		t.Fatalf("image size %v, want %dx%d", got, plotWidth, plotHeight)
	}
	parts, mem := areaOf(0), areaOf(1)
	for _, p := range []struct {
		name   string
		area   plotArea
		fx, fy float64
		color  color.RGBA
	}{
		// Partitions 1, 2, 4 on a log scale: the ends and the middle.
		{"100k events/s at 1 partition", parts, 0, 0.25, colorEvents},
		{"200k events/s at 2 partitions", parts, 0.5, 0.5, colorEvents},
		{"400k events/s at 4 partitions", parts, 1, 1, colorEvents},
		{"8 µs/event at 1 partition", parts, 0, 1, colorCPU},
		{"6 µs/event at 2 partitions", parts, 0.5, 0.75, colorCPU},
		{"3 µs/event at 4 partitions", parts, 1, 0.375, colorCPU},
		// Active users linear from 0 to 10M.
		{"100 MiB at 1M users", mem, 0.1, 100.0 / 600, colorRSS},
		{"300 MiB at 5M users", mem, 0.5, 0.5, colorRSS},
		{"600 MiB at 10M users", mem, 1, 1, colorRSS},
	} {
		// The marker is 7x7: most of it must be the series's colour.
		if n := colored(img, p.area.at(p.fx, p.fy), 3, p.color); n < 30 {
			t.Errorf("%s: %d pixels of its colour at %v, want its marker there", p.name, n, p.area.at(p.fx, p.fy))
		}
	}
	leftHalf, rightHalf := image.Rect(0, 0, panelWidth, plotHeight), image.Rect(panelWidth, 0, plotWidth, plotHeight)
	if n := coloredIn(img, leftHalf, colorRSS); n != 0 {
		t.Errorf("%d pixels of the memory curve's colour in the partition panel", n)
	}
	for _, c := range []color.RGBA{colorEvents, colorCPU} {
		if n := coloredIn(img, rightHalf, c); n != 0 {
			t.Errorf("%d pixels of a partition series's colour %v in the memory panel", n, c)
		}
	}
}

func TestPlotEmptyCurveSaysNoData(t *testing.T) {
	left, _ := knownCurves()
	img, err := renderCurves(left, memoryPanel(nil), "test")
	if err != nil {
		t.Fatalf("one curve missing: %v, want the other drawn", err)
	}
	if n := coloredIn(img, img.Bounds(), colorRSS); n != 0 {
		t.Errorf("%d pixels of the memory curve's colour without a memory curve", n)
	}
	mem := areaOf(1)
	middle := image.Rect(mem.Min.X, mem.Min.Y+mem.Dy()/2-12, mem.Max.X, mem.Min.Y+mem.Dy()/2+4)
	if n := coloredIn(img, middle, colorInk); n == 0 {
		t.Error(`the empty memory panel has no text in its middle, want "no data: …"`)
	}
	if n := colored(img, areaOf(0).at(1, 1), 3, colorEvents); n < 30 {
		t.Errorf("the partition curve beside an empty panel lost its top point (%d pixels)", n)
	}
}

func TestPlotNoCurveIsAnError(t *testing.T) {
	if _, err := renderCurves(partitionPanel(nil), memoryPanel(nil), "test"); !errors.Is(err, errNoCurves) {
		t.Errorf("both curves empty: %v, want errNoCurves", err)
	}
	left, right := knownCurves()
	left.right.ys = left.right.ys[:2]
	if _, err := renderCurves(left, right, "test"); err == nil || !strings.Contains(err.Error(), "CPU-us/event has 2 points for 3 x values") {
		t.Errorf("a series short of a point: %v, want an error naming it", err)
	}
}

func TestNiceCeil(t *testing.T) {
	for _, tc := range []struct{ v, want float64 }{
		{400_000, 400_000}, {410_000, 500_000}, {129_000, 160_000}, {2.2, 2.4}, {8, 8}, {8.5, 10}, {1, 1}, {0.0042, 0.005}, {11, 12}, {0, 1}, {-3, 1},
	} {
		if got := niceCeil(tc.v); got < tc.want*(1-1e-12) || got > tc.want*(1+1e-12) {
			t.Errorf("niceCeil(%v) = %v, want %v", tc.v, got, tc.want)
		}
	}
}

func TestDrawPlotWritesThePNG(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "curves.png")
	r := &report{Curve: []curveRow{{Partitions: 8, Run: runResult{Messages: 10, Wall: 1e9, CPU: 1e6}}},
		Memory: &memoryResult{Points: []memoryPoint{{Active: 10, PeakRSS: 1 << 20}, {Active: 20, PeakRSS: 2 << 20}}},
		opts:   options{Plot: path}}
	r.drawPlot()
	if r.plotErr != nil || !strings.Contains(r.PlotNote, "written to "+path) {
		t.Fatalf("drawPlot: %v, note %q", r.plotErr, r.PlotNote)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("the plot is not a PNG: %v", err)
	}
	if img.Bounds().Size() != image.Pt(plotWidth, plotHeight) {
		t.Errorf("the PNG is %v, want %dx%d", img.Bounds().Size(), plotWidth, plotHeight)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("the directory holds %d files, want the plot alone (no temporary file left)", len(entries))
	}
}

func TestDrawPlotSaysWhatBecameOfIt(t *testing.T) {
	withCurve := func(plot string) *report {
		return &report{Curve: []curveRow{{Partitions: 8, Run: runResult{Messages: 10, Wall: 1e9, CPU: 1e6}}}, opts: options{Plot: plot}}
	}
	r := withCurve("none")
	r.drawPlot()
	if r.plotErr != nil || r.PlotNote != "skipped (--plot none)" {
		t.Errorf("--plot none: %v, note %q", r.plotErr, r.PlotNote)
	}
	r = &report{opts: options{Plot: filepath.Join(t.TempDir(), "p.png")}}
	r.drawPlot()
	if r.plotErr != nil || !strings.HasPrefix(r.PlotNote, "not drawn: no curve was measured") {
		t.Errorf("no curves: %v, note %q: want a note, not a failure", r.plotErr, r.PlotNote)
	}
	missing := filepath.Join(t.TempDir(), "gone", "p.png")
	r = withCurve(missing)
	r.drawPlot()
	if r.plotErr == nil || !strings.Contains(r.plotErr.Error(), missing) || !strings.HasPrefix(r.PlotNote, "NOT written: ") {
		t.Errorf("unwritable path: %v, note %q: want a failure naming the path", r.plotErr, r.PlotNote)
	}
}
