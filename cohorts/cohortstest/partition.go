package cohortstest

import (
	"math"
	"slices"
	"time"
)

// Partition restates one partition worker's rules over its messages, as
// plainly as possible: a watermark that follows the event time at least
// Quorum distinct users' countable (counted or bounded) events in the open
// windows have reached, minus MaxOutOfOrder, and never moves back; events
// whose window's end plus Lateness is at or behind it dropped as late;
// the rest aggregated by an Aggregator. Feed it the events that decode
// and whose Kafka key is their token, in offset order; every window counts
// as closed in the end (the idle timeout).
type Partition struct {
	*Aggregator
	Quorum                  int
	MaxOutOfOrder, Lateness time.Duration
	Late                    int // events dropped as late

	watermark int64
	latest    map[int64]map[string]int64 // open window start → user → latest countable event time
}

// NewPartition returns an empty partition under p.
func NewPartition(p Params, quorum int, maxOutOfOrder, lateness time.Duration) *Partition {
	return &Partition{
		Aggregator: NewAggregator(p), Quorum: quorum, MaxOutOfOrder: maxOutOfOrder, Lateness: lateness,
		watermark: math.MinInt64, latest: map[int64]map[string]int64{},
	}
}

// Add takes one event: late, or aggregated with its outcome.
func (p *Partition) Add(ev Event) {
	window, lateness := p.p.Window.Milliseconds(), p.Lateness.Milliseconds()
	start := WindowStart(ev.E.TS, p.p.Window)
	if start+window+lateness <= p.watermark {
		p.Late++
		return
	}
	if o := p.Aggregator.Add(ev); o != Counted && o != Bounded {
		return // not countable: it moves no watermark
	}
	if p.latest[start] == nil {
		p.latest[start] = map[string]int64{}
	}
	p.latest[start][ev.User] = max(p.latest[start][ev.User], ev.E.TS)
	perUser := map[string]int64{}
	for _, users := range p.latest {
		for u, ts := range users {
			perUser[u] = max(perUser[u], ts)
		}
	}
	var maxima []int64
	for _, ts := range perUser {
		maxima = append(maxima, ts)
	}
	slices.Sort(maxima)
	if n := len(maxima); n >= p.Quorum {
		p.watermark = max(p.watermark, maxima[n-p.Quorum]-p.MaxOutOfOrder.Milliseconds())
	}
	for s := range p.latest {
		if s+window+lateness <= p.watermark {
			delete(p.latest, s) // closed
		}
	}
}
