package cohorts

import (
	"github.com/cohortline/cohortline/schemas"
)

func event(mods ...func(*schemas.Event)) *schemas.Event {
	e := &schemas.Event{
		TS: testHour + 1000, N: 1,
		Kind: schemas.KindMessageSent, Peer: schemas.PeerIndividual, Media: schemas.MediaText,
		Country: schemas.Country{'B', 'R'}, Lang: schemas.Lang{'p', 't'},
		Age: schemas.Age25to34, Platform: schemas.PlatformAndroid,
	}
	for _, m := range mods {
		m(e)
	}
	return e
}

func call(sec int32) func(*schemas.Event) {
	return func(e *schemas.Event) { e.Kind, e.Media, e.N = schemas.KindCall, schemas.MediaVoice, sec }
}

func platform(p schemas.Platform) func(*schemas.Event) {
	return func(e *schemas.Event) { e.Platform = p }
}

func business(slug string) func(*schemas.Event) {
	return func(e *schemas.Event) {
		c, ok := schemas.ParseCategory([]byte(slug))
		if !ok {
			panic(slug)
		}
		e.Kind, e.Peer, e.Media, e.Category = schemas.KindCatalogViewed, schemas.PeerBusiness, schemas.MediaImage, c
	}
}

var minor = func(e *schemas.Event) { e.Age = schemas.AgeMinor }

func age(a schemas.AgeBand) func(*schemas.Event) {
	return func(e *schemas.Event) { e.Age = a }
}

// add is one Add call: user, event id, event and the expected outcome.
type add struct {
	user UserID
	id   uint64
	e    *schemas.Event
	want Outcome
}

// cohortView is a Partial with its values by feature name, zeros left out,
// so that expectations read like the feature dictionary.
type cohortView struct {
	Key           string
	Users, Events uint64
	Values        map[string]uint64
}

func view(ps []Partial) []cohortView {
	fs := PartialFeatures()
	var out []cohortView
	for _, p := range ps {
		v := cohortView{Key: p.Key.String(), Users: p.Users, Events: p.Events, Values: map[string]uint64{}}
		for i, x := range p.Values {
			if x != 0 {
				v.Values[fs[i].Name] = x
			}
		}
		out = append(out, v)
	}
	return out
}
