// Package cohortstest is a deliberately naive restatement of how Cohortline
// aggregates one window's events into cohort partials (feature set v1), for
// tests only: plain maps keyed by raw tokens, raw event ids, key strings and
// feature names. It shares no code with package cohorts (not even its
// types), so a test that compares the two, or the whole pipeline's output
// with this, checks the compact state, the re-keying, the slot layout and
// everything downstream together. Never use it in production code: it keeps
// raw tokens in memory.
package cohortstest

import (
	"strings"
	"time"

	"github.com/cohortline/cohortline/schemas"
)

// Params are the parts of a cohort spec the aggregation depends on.
type Params struct {
	Dimensions       []string // in key order: "country", "lang", "age", "platform"
	Window           time.Duration
	BoundEvents      int64 // per user and window
	BoundCallSeconds int64 // per user and window
}

// Event is a decoded event with its token and id copied out of the
// decoder's buffers.
type Event struct {
	User, ID string
	E        schemas.Event
}

// Cohort is one cohort's partial in one window.
type Cohort struct {
	Users, Events uint64
	Values        map[string]uint64 // by feature name (cohorts.FeatureSetV1), zeros left out
}

// Outcome names, matching cohorts.Outcome's String.
const (
	Counted   = "counted"
	Duplicate = "duplicate"
	Minor     = "minor"
	Sensitive = "sensitive"
	Bounded   = "bounded"
)

type user struct {
	cohort string
	minor  bool            // sent an event of age 13-17 in the window
	events int64           // deduplicated, bounded ones included
	calls  int64           // call seconds counted
	did    map[string]bool // reach dimensions
	sums   map[string]uint64
}

type window struct {
	seen  map[[2]string]bool // (user, event id)
	users map[string]*user
	order []string // users in order of their first event, for a stable output
}

// Key spells the canonical cohort key of e by hand.
func Key(dimensions []string, e *schemas.Event) string {
	var parts []string
	for _, d := range dimensions {
		v := map[string]string{
			"country": string(e.Country[:]), "lang": string(e.Lang[:]),
			"age": e.Age.String(), "platform": e.Platform.String(),
		}[d]
		parts = append(parts, d+"="+v)
	}
	return strings.Join(parts, "|")
}

func bucket(n int64) string {
	switch {
	case n == 1:
		return "1"
	case n <= 5:
		return "2_5"
	case n <= 20:
		return "6_20"
	case n <= 100:
		return "21_100"
	}
	return "101_plus"
}

// WindowStart is the start (epoch ms) of the tumbling window of ts.
func WindowStart(ts int64, size time.Duration) int64 {
	ms := size.Milliseconds()
	start := ts - ts%ms
	if ts < 0 && ts%ms != 0 {
		start -= ms
	}
	return start
}

// Aggregate returns, per window start (epoch ms), the cohorts by key string,
// and the count of events per outcome, of the events in the order given
// (Aggregator's rules).
func Aggregate(p Params, evs []Event) (map[int64]map[string]*Cohort, map[string]int) {
	a := NewAggregator(p)
	for _, ev := range evs {
		a.Add(ev)
	}
	return a.Result(), a.Outcomes
}

// Aggregator takes events one at a time, for a reference that needs each
// event's outcome as it comes (the streaming watermark's). Its rules: a
// user's first counted event fixes the cohort, later copies of an event id
// from the same user in the same window count once (the same id from
// another user is another event), a user's events beyond BoundEvents add
// to no sum (but to reach and the histogram), call seconds are clamped per
// user, sensitive categories are left out per event, and a user with any
// event of age 13-17 in a window is left out of that whole window, events
// before it included. The outcome of an event is what was known when it
// came: a user's events before the first minor one were counted then.
type Aggregator struct {
	p        Params
	windows  map[int64]*window
	Outcomes map[string]int // events per outcome so far
}

// NewAggregator returns an empty Aggregator.
func NewAggregator(p Params) *Aggregator {
	return &Aggregator{p: p, windows: map[int64]*window{}, Outcomes: map[string]int{}}
}

// Add aggregates one event and returns its outcome.
func (a *Aggregator) Add(ev Event) string {
	o := a.add(ev)
	a.Outcomes[o]++
	return o
}

func (a *Aggregator) add(ev Event) string {
	e, p := ev.E, a.p
	isMinor := e.Age == schemas.AgeMinor
	if !isMinor && e.Category.Sensitive() {
		return Sensitive
	}
	start := WindowStart(e.TS, p.Window)
	win := a.windows[start]
	if win == nil {
		win = &window{seen: map[[2]string]bool{}, users: map[string]*user{}}
		a.windows[start] = win
	}
	u := win.users[ev.User]
	if u == nil {
		u = &user{did: map[string]bool{}, sums: map[string]uint64{}}
		win.users[ev.User] = u
		win.order = append(win.order, ev.User)
	}
	if isMinor || u.minor {
		u.minor = true
		return Minor
	}
	if win.seen[[2]string{ev.User, ev.ID}] {
		return Duplicate
	}
	win.seen[[2]string{ev.User, ev.ID}] = true
	if u.events == 0 {
		u.cohort = Key(p.Dimensions, &e)
	}
	u.events++
	did := []string{"kind." + e.Kind.String(), "peer." + e.Peer.String(), "media." + e.Media.String()}
	if e.Category != schemas.CategoryNone {
		did = append(did, "category."+e.Category.String())
	}
	for _, d := range did {
		u.did[d] = true
	}
	if u.events > p.BoundEvents {
		return Bounded
	}
	for _, d := range did {
		u.sums["sum."+d]++
	}
	if e.Kind == schemas.KindCall {
		add := min(int64(e.N), p.BoundCallSeconds-u.calls)
		u.calls += add
		if add > 0 {
			u.sums["sum.call_seconds"] += uint64(add)
		}
	}
	return Counted
}

// Result returns, per window start (epoch ms), the cohorts by key string:
// every user but the window's minors, in the cohort of their first counted
// event.
func (a *Aggregator) Result() map[int64]map[string]*Cohort {
	out := map[int64]map[string]*Cohort{}
	for start, win := range a.windows {
		cohorts := map[string]*Cohort{}
		for _, id := range win.order {
			u := win.users[id]
			if u.minor || u.events == 0 {
				continue
			}
			c := cohorts[u.cohort]
			if c == nil {
				c = &Cohort{Values: map[string]uint64{}}
				cohorts[u.cohort] = c
			}
			c.Users++
			c.Events += uint64(min(u.events, a.p.BoundEvents))
			reachedGroups := map[string]bool{}
			for d := range u.did {
				c.Values["reach."+d]++
				if g, ok := categoryGroup[strings.TrimPrefix(d, "category.")]; ok && strings.HasPrefix(d, "category.") {
					reachedGroups[g] = true
				}
			}
			for g := range reachedGroups {
				c.Values["reach.category_group."+g]++
			}
			for name, v := range u.sums {
				c.Values[name] += v
			}
			c.Values["hist.events."+bucket(u.events)]++
		}
		out[start] = cohorts
	}
	return out
}

// categoryGroup is feature set 2's group of each non-sensitive business
// category, restated here independently of cohorts.CategoryGroups (the
// reference shares no code with cohorts).
var categoryGroup = map[string]string{
	"retail_fashion": "shopping", "retail_electronics": "shopping", "retail_home": "shopping",
	"retail_beauty": "shopping", "retail_sports": "shopping", "retail_toys": "shopping",
	"grocery": "food", "restaurants": "food",
	"travel": "travel", "transport": "travel", "automotive": "travel",
	"real_estate": "home", "home_services": "home", "pets": "home", "utilities": "home",
	"entertainment": "media_tech", "media_publishing": "media_tech", "telecom": "media_tech", "software": "media_tech",
	"finance_banking": "finance", "insurance": "finance",
	"education": "services", "professional_services": "services", "government": "services", "nonprofit": "services",
}
