package main

import (
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
	"time"
)

// A soak judges each series it samples by its least-squares line over the
// samples after the warm-up: growth is the slope times the time those
// samples span, and the series fails when
//
//	growth > max(growthK × σ, floor)
//
// where σ is the standard deviation of the residuals around the line and
// floor is the series' absolute allowance (soakLimit).
//
// Why k × σ: with independent noise the fitted growth's own standard
// error is σ·√(12/N) (0.27σ for the 160 samples of 30 minutes at 10 s),
// so 3σ is over ten standard errors: flat noise does not reach it. The
// noise of a Go process is not independent, though: the heap is a
// sawtooth (it grows to the GC's target, then drops), and so, more
// slowly, are lag (it falls each time a window closes and its offsets are
// committed) and goroutines (flushes in flight). A sawtooth of amplitude A
// has σ = A/√12 ≈ 0.29A, and over m whole periods its fitted growth is
// A/m: 3.46σ/m. So k = 3 passes any sawtooth seen over two periods or
// more, while a single ramp without its drop, which the soak cannot tell
// from a leak, fails. A steady leak has a small σ around its line, so its
// growth meets the floor rather than k × σ.
//
// Why a floor: a series with almost no noise (open files, goroutines of an
// idle stage) would fail on any step, e.g. one connection more than at the
// start. The floors are the growth that matters over the run: 5% of the
// series' mean for memory (a leak of 5% per half hour doubles the process
// in ten hours), 10 goroutines or open files (one per partition and then
// some: a leak per window or per flush passes that within minutes), and
// one window's worth of messages for lag (a consumer that falls behind by
// a whole window per run never catches up).
const growthK = 3.0

// soakLimit is one series' allowance beyond the noise: Floor in the
// series' unit, plus FloorShare of its mean.
type soakLimit struct {
	Floor      float64
	FloorShare float64
}

// series is one sampled quantity: values at seconds since the soak began.
type series struct {
	Name  string
	Unit  string // "B" prints as MiB; "" as a plain number
	Limit soakLimit
	T, Y  []float64
}

func (s *series) add(at time.Duration, v float64) {
	s.T = append(s.T, at.Seconds())
	s.Y = append(s.Y, v)
}

// trend is the least-squares line through a series' samples after the
// warm-up, and what the verdict made of it.
type trend struct {
	N              int
	Start, End     float64 // first and last sample judged
	Min, Max, Mean float64
	Slope          float64 // per second
	Growth         float64 // Slope × the time the samples span
	Sigma          float64 // standard deviation of the residuals
	Threshold      float64 // max(growthK × Sigma, floor)
	From, To       float64 // times of the first and last sample judged
	Grew, TooFew   bool
}

// minJudged is the fewest samples a line is fitted to: fewer give no
// residual to speak of.
const minJudged = 5

// judge fits the samples of s taken at or after warmup seconds.
func (s *series) judge(warmup float64) trend {
	var t, y []float64
	for i := range s.T {
		if s.T[i] >= warmup {
			t, y = append(t, s.T[i]), append(y, s.Y[i])
		}
	}
	tr := trend{N: len(t)}
	if len(t) < minJudged {
		tr.TooFew = true
		return tr
	}
	tr.Start, tr.End, tr.Min, tr.Max = y[0], y[len(y)-1], y[0], y[0]
	var mt, my float64
	for i := range t {
		mt, my = mt+t[i], my+y[i]
		tr.Min, tr.Max = min(tr.Min, y[i]), max(tr.Max, y[i])
	}
	n := float64(len(t))
	mt, my = mt/n, my/n
	var stt, sty float64
	for i := range t {
		stt += (t[i] - mt) * (t[i] - mt)
		sty += (t[i] - mt) * (y[i] - my)
	}
	if stt > 0 {
		tr.Slope = sty / stt
	}
	var ss float64
	for i := range t {
		r := y[i] - (my + tr.Slope*(t[i]-mt))
		ss += r * r
	}
	tr.Mean = my
	tr.Sigma = math.Sqrt(ss / (n - 2)) // two parameters fitted
	tr.From, tr.To = t[0], t[len(t)-1]
	tr.Growth = tr.Slope * (tr.To - tr.From)
	tr.Threshold = max(growthK*tr.Sigma, s.Limit.Floor+s.Limit.FloorShare*math.Abs(my))
	tr.Grew = tr.Growth > tr.Threshold
	return tr
}

// soakVerdict is the outcome of a soak: every series' trend, in order.
type soakVerdict struct {
	ID     string // the prefix of what the soak created (bench.id)
	CPU    string // what the run and the driver used, for the report
	Series []*series
	Trends []trend
	// NeverCommitted is set when the committed lag never dropped: no
	// window's offsets were committed during the whole soak.
	NeverCommitted bool
}

// judgeAll judges every series from the end of the warm-up: warmup, or
// later if the committed lag (settledBy) had not dropped by then.
func judgeAll(all []*series, warmup time.Duration, settledBy *series) soakVerdict {
	v := soakVerdict{Series: all}
	from := warmup.Seconds()
	if settledBy != nil {
		drop := settledBy.firstDrop()
		from = max(from, drop)
		v.NeverCommitted = drop == 0
	}
	for _, s := range all {
		v.Trends = append(v.Trends, s.judge(from))
	}
	return v
}

// firstDrop is the time of the first sample below its predecessor, 0 if
// none is. For the committed lag that is the first commit after a window
// closed: until then the process holds every event's state by design
// (nothing can be freed before the first window closes), so growth before
// it is no leak. Windows are aligned to the clock, so the first one
// closes anywhere from lateness to a window plus lateness after the
// start. A lag that never drops is judged from the warm-up on, and grows.
func (s *series) firstDrop() float64 {
	for i := 1; i < len(s.Y); i++ {
		if s.Y[i] < s.Y[i-1] {
			return s.T[i]
		}
	}
	return 0
}

// failed names the series that grew beyond the noise or had too few
// samples to judge, and a soak that never committed.
func (v soakVerdict) failed() []string {
	var out []string
	if v.NeverCommitted {
		out = append(out, "lag (committed) never dropped: no window was committed")
	}
	for i, tr := range v.Trends {
		switch {
		case tr.TooFew:
			out = append(out, v.Series[i].Name+" (too few samples)")
		case tr.Grew:
			out = append(out, v.Series[i].Name)
		}
	}
	return out
}

// print writes the table: the judged samples' first, last, least and
// greatest values, the slope per hour, the growth over the judged span
// against its threshold, and the verdict.
func (v soakVerdict) print(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "series\tstart\tend\tmin\tmax\tslope/h\tgrowth\tσ\tlimit\tverdict\t")
	for i, tr := range v.Trends {
		s := v.Series[i]
		if tr.TooFew {
			fmt.Fprintf(tw, "%s\t\t\t\t\t\t\t\t\t%d samples: too few\t\n", s.Name, tr.N)
			continue
		}
		verdict := "ok"
		if tr.Grew {
			verdict = "GREW"
		}
		f := func(x float64) string { return formatValue(x, s.Unit) }
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", s.Name, f(tr.Start), f(tr.End), f(tr.Min), f(tr.Max),
			f(tr.Slope*3600), f(tr.Growth), f(tr.Sigma), f(tr.Threshold), verdict)
	}
	tw.Flush()
	if len(v.Trends) > 0 && !v.Trends[0].TooFew {
		tr := v.Trends[0]
		fmt.Fprintf(w, "judged: %d samples from %s to %s (after the warm-up and the first commit after a window closed); growth = slope × that span; limit = max(%g σ, floor)\n",
			tr.N, seconds(tr.From), seconds(tr.To), growthK)
	}
	if v.CPU != "" {
		fmt.Fprintln(w, v.CPU)
	}
	if failed := v.failed(); len(failed) > 0 {
		fmt.Fprintf(w, "verdict: FAILED: %s\n", strings.Join(failed, ", "))
	} else {
		fmt.Fprintln(w, "verdict: ok: no series grew beyond its noise")
	}
}

func seconds(s float64) time.Duration {
	return time.Duration(s * float64(time.Second)).Round(time.Second)
}

// formatValue prints bytes as MiB and counts as they are.
func formatValue(x float64, unit string) string {
	if unit == "B" {
		return fmt.Sprintf("%.1fMiB", x/(1<<20))
	}
	if math.Abs(x) >= 100 || x == math.Trunc(x) {
		return fmt.Sprintf("%.0f", x)
	}
	return fmt.Sprintf("%.1f", x)
}
