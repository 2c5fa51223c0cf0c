package main

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"os"
	"path/filepath"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// The plot of the curves (issue 19): two panels side by side, the
// partition curve on the left and the memory curve on the right, written
// as a PNG by the benchmark itself, so that the picture beside
// BENCHMARKS.md is of the figures in the report, not redrawn by hand.

const (
	plotWidth, plotHeight = 1100, 440
	panelWidth            = plotWidth / 2
	// The plot area's margins inside a panel: room for the tick labels,
	// the axis names and the title.
	marginLeft, marginRight, marginTop, marginBottom = 70, 75, 55, 60
	// xPad keeps the first and last points off the vertical axes.
	xPad = 18
)

var (
	colorEvents = color.RGBA{0x1f, 0x77, 0xb4, 0xff} // blue
	colorCPU    = color.RGBA{0xd6, 0x27, 0x28, 0xff} // red
	colorRSS    = color.RGBA{0x2c, 0xa0, 0x2c, 0xff} // green
	colorInk    = color.RGBA{0x20, 0x20, 0x20, 0xff}
	colorGrid   = color.RGBA{0xe4, 0xe4, 0xe4, 0xff}
)

// errNoCurves is renderCurves's answer when neither curve was measured.
var errNoCurves = errors.New("no curve to plot: the partition curve and the memory curve are both empty")

// plotLine is one series of a panel, on a y axis of its own from 0.
type plotLine struct {
	name  string // the axis's name, in the plotLine's colour
	color color.RGBA
	ys    []float64
	tick  func(float64) string
}

// panel is one chart: the points at xs of one series, or two on a left
// and a right axis. No xs draws the panel saying "no data".
type panel struct {
	title, xLabel string
	noData        string // why there are no points
	xs            []float64
	// logX spaces xs by their logarithm (partitions double); otherwise
	// the x axis is linear from 0, so that the baseline shows.
	logX  bool
	xTick func(float64) string
	left  plotLine
	right *plotLine
}

// plotArea is the rectangle a panel's points are drawn in.
type plotArea struct{ image.Rectangle }

// areaOf is panel i's plot area (0 left, 1 right).
func areaOf(i int) plotArea {
	x0 := i * panelWidth
	return plotArea{image.Rect(x0+marginLeft, marginTop, x0+panelWidth-marginRight, plotHeight-marginBottom)}
}

// at is the pixel at fractions fx, fy of the area's x and y ranges, fy
// up from the bottom; fx keeps xPad from the sides.
func (a plotArea) at(fx, fy float64) image.Point {
	w := float64(a.Dx() - 2*xPad)
	return image.Pt(a.Min.X+xPad+int(math.Round(fx*w)), a.Max.Y-int(math.Round(fy*float64(a.Dy()))))
}

// renderCurves draws the two panels, caption under them. With neither
// curve measured there is nothing to draw: errNoCurves.
func renderCurves(left, right panel, caption string) (*image.RGBA, error) {
	if len(left.xs) == 0 && len(right.xs) == 0 {
		return nil, errNoCurves
	}
	img := image.NewRGBA(image.Rect(0, 0, plotWidth, plotHeight))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	for i, p := range []panel{left, right} {
		if err := p.check(); err != nil {
			return nil, err
		}
		p.draw(img, areaOf(i))
	}
	text(img, caption, 10, plotHeight-8, colorInk)
	return img, nil
}

// check rejects a panel whose series do not have a point per x, or whose
// log scale meets an x at or below 0: a bug in building it.
func (p panel) check() error {
	for _, s := range []*plotLine{&p.left, p.right} {
		if s != nil && len(p.xs) > 0 && len(s.ys) != len(p.xs) {
			return fmt.Errorf("plotting %q: %s has %d points for %d x values", p.title, s.name, len(s.ys), len(p.xs))
		}
	}
	for _, x := range p.xs {
		if p.logX && x <= 0 {
			return fmt.Errorf("plotting %q: x = %v on a log scale", p.title, x)
		}
	}
	return nil
}

func (p panel) draw(img *image.RGBA, a plotArea) {
	text(img, p.title, a.Min.X-marginLeft+10, 20, colorInk)
	if len(p.xs) == 0 {
		rect(img, a.Rectangle, colorGrid)
		msg := "no data: " + p.noData
		text(img, msg, a.Min.X+(a.Dx()-textWidth(msg))/2, a.Min.Y+a.Dy()/2, colorInk)
		return
	}
	leftTop := niceCeil(maxOf(p.left.ys))
	yAxis(img, a, p.left, leftTop, false)
	if p.right != nil {
		yAxis(img, a, *p.right, niceCeil(maxOf(p.right.ys)), true)
	}
	hline(img, a.Min.X, a.Max.X, a.Max.Y, colorInk)
	vline(img, a.Min.X, a.Min.Y, a.Max.Y, colorInk)
	fx := p.xFractions()
	if !p.logX {
		xTick(img, a.at(0, 0), "0") // where a linear axis starts
	}
	for i, x := range p.xs {
		xTick(img, a.at(fx[i], 0), p.xTick(x))
	}
	text(img, p.xLabel, a.Min.X+(a.Dx()-textWidth(p.xLabel))/2, a.Max.Y+38, colorInk)
	plotSeries(img, a, fx, p.left, leftTop)
	if p.right != nil {
		plotSeries(img, a, fx, *p.right, niceCeil(maxOf(p.right.ys)))
	}
}

// xTick marks the x axis at at, label under it.
func xTick(img *image.RGBA, at image.Point, label string) {
	vline(img, at.X, at.Y, at.Y+4, colorInk)
	text(img, label, at.X-textWidth(label)/2, at.Y+18, colorInk)
}

// xFractions places xs in [0, 1]: by log or linearly from 0; a single
// point on a log scale sits in the middle.
func (p panel) xFractions() []float64 {
	out := make([]float64, len(p.xs))
	lo, hi := p.xs[0], p.xs[len(p.xs)-1]
	for i, x := range p.xs {
		switch {
		case p.logX && hi == lo:
			out[i] = 0.5
		case p.logX:
			out[i] = math.Log(x/lo) / math.Log(hi/lo)
		default:
			out[i] = x / niceCeil(maxOf(p.xs))
		}
	}
	return out
}

// yAxis draws s's axis from 0 to top: four grid lines and their labels on
// the left of the area, or on the right, and the axis's name above it.
func yAxis(img *image.RGBA, a plotArea, s plotLine, top float64, right bool) {
	x := a.Min.X
	if right {
		x = a.Max.X
		vline(img, x, a.Min.Y, a.Max.Y, colorInk)
	}
	for k := 0; k <= 4; k++ {
		y := a.at(0, float64(k)/4).Y
		if !right && k > 0 {
			hline(img, a.Min.X+1, a.Max.X-1, y, colorGrid)
		}
		label := s.tick(top * float64(k) / 4)
		lx := x - 6 - textWidth(label)
		if right {
			lx = x + 6
		}
		text(img, label, lx, y+4, s.color)
	}
	nx := x - textWidth(s.name)/2
	if right {
		nx = x - textWidth(s.name) + 10
	} else {
		nx = max(nx, x-marginLeft+4)
	}
	text(img, s.name, nx, a.Min.Y-10, s.color)
}

// plotSeries draws s's points as squares joined by lines.
func plotSeries(img *image.RGBA, a plotArea, fx []float64, s plotLine, top float64) {
	pts := make([]image.Point, len(s.ys))
	for i, y := range s.ys {
		pts[i] = a.at(fx[i], y/top)
	}
	for i := 1; i < len(pts); i++ {
		line(img, pts[i-1], pts[i], s.color)
	}
	for _, pt := range pts {
		draw.Draw(img, image.Rect(pt.X-3, pt.Y-3, pt.X+4, pt.Y+4), image.NewUniform(s.color), image.Point{}, draw.Src)
	}
}

// niceCeil is the smallest round number (1, 1.2, 1.6, 2, 2.4, 3, 4, 5, 6
// or 8 times a power of ten) at or above v: the top of an axis whose
// quarters are round too (no 1.5: its quarter is 0.375). 1 for no
// positive v.
func niceCeil(v float64) float64 {
	if v <= 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return 1
	}
	unit := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 1.2, 1.6, 2, 2.4, 3, 4, 5, 6, 8, 10} {
		if m*unit >= v*(1-1e-9) {
			return m * unit
		}
	}
	return 10 * unit
}

func maxOf(vs []float64) float64 {
	m := 0.0
	for _, v := range vs {
		m = max(m, v)
	}
	return m
}

// line draws a line two pixels thick from p to q.
func line(img *image.RGBA, p, q image.Point, c color.RGBA) {
	steps := max(abs(q.X-p.X), abs(q.Y-p.Y), 1)
	for i := 0; i <= steps; i++ {
		x := p.X + (q.X-p.X)*i/steps
		y := p.Y + (q.Y-p.Y)*i/steps
		img.SetRGBA(x, y, c)
		img.SetRGBA(x+1, y, c)
		img.SetRGBA(x, y+1, c)
	}
}

func hline(img *image.RGBA, x0, x1, y int, c color.RGBA) {
	for x := x0; x <= x1; x++ {
		img.SetRGBA(x, y, c)
	}
}

func vline(img *image.RGBA, x, y0, y1 int, c color.RGBA) {
	for y := y0; y <= y1; y++ {
		img.SetRGBA(x, y, c)
	}
}

func rect(img *image.RGBA, r image.Rectangle, c color.RGBA) {
	hline(img, r.Min.X, r.Max.X, r.Min.Y, c)
	hline(img, r.Min.X, r.Max.X, r.Max.Y, c)
	vline(img, r.Min.X, r.Min.Y, r.Max.Y, c)
	vline(img, r.Max.X, r.Min.Y, r.Max.Y, c)
}

func abs(n int) int { return max(n, -n) }

// text draws s with its baseline at y. The 7x13 face has ASCII only.
func text(img *image.RGBA, s string, x, y int, c color.RGBA) {
	d := font.Drawer{Dst: img, Src: image.NewUniform(c), Face: basicfont.Face7x13, Dot: fixed.P(x, y)}
	d.DrawString(s)
}

func textWidth(s string) int { return len(s) * basicfont.Face7x13.Advance }

// writePNG writes img to path by way of a temporary file in the same
// directory, renamed over path: a reader never sees half a picture.
func writePNG(path string, img image.Image) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("writing the plot %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err := png.Encode(f, img); err != nil {
		return fmt.Errorf("encoding the plot %s: %w", path, err)
	}
	if err := f.Chmod(0o644); err != nil {
		return fmt.Errorf("writing the plot %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing the plot %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("writing the plot %s: %w", path, err)
	}
	return nil
}
