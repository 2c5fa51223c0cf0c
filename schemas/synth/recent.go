package synth

import "github.com/cohortline/cohortline/schemas"

// recentEvents remembers the last recentSize valid events in compact form,
// so a duplicate can re-send one byte for byte without keeping its line.
type recentEvents struct {
	ring [recentSize]recentEvent
	n    int // events pushed, saturating at recentSize
	next int
}

// recentSize bounds how far back a duplicate reaches: about a minute of
// traffic at 1M events a day, like a producer retry.
const recentSize = 1024

type recentEvent struct {
	seq      uint64
	ts       int64
	user     uint32
	n        int32
	category schemas.Category
	kind     schemas.Kind
	peer     schemas.Peer
	media    schemas.Media
	age      schemas.AgeBand
	platform schemas.Platform
	country  schemas.Country
	lang     schemas.Lang
}

func (r *recentEvents) len() int { return r.n }

func (r *recentEvents) push(user int, seq uint64, ev *schemas.Event) {
	r.ring[r.next] = recentEvent{
		seq: seq, ts: ev.TS, user: uint32(user), n: ev.N, category: ev.Category,
		kind: ev.Kind, peer: ev.Peer, media: ev.Media, age: ev.Age,
		platform: ev.Platform, country: ev.Country, lang: ev.Lang,
	}
	r.next = (r.next + 1) % recentSize
	r.n = min(r.n+1, recentSize)
}

// pick returns a uniformly chosen remembered event.
func (r *recentEvents) pick(rnd uint64) *recentEvent {
	return &r.ring[int((rnd>>32)*uint64(r.n)>>32)]
}

func (e *recentEvent) restore(ev *schemas.Event, id, token []byte) {
	*ev = schemas.Event{
		ID: id, User: token, TS: e.ts, N: e.n, Category: e.category,
		Kind: e.kind, Peer: e.peer, Media: e.media, Age: e.age,
		Platform: e.platform, Country: e.country, Lang: e.lang,
	}
}
