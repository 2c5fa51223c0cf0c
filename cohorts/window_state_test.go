package cohorts

import (
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/cohortline/cohortline/schemas"
)

// Focused cases of WindowState.Add, one rule each. reference_test.go
// checks the whole on generated data.

const testHour = int64(1793491200000) // 2026-11-01T00:00:00Z

var testWindow = Window{Start: testHour, End: testHour + 3600000}

// event returns a plain private text message from a Brazilian adult on
// Android; mods change it.
func TestWindowStateAdd(t *testing.T) {
	const brAndroid = "country=BR|lang=pt|age=25-34|platform=android"
	const brIOS = "country=BR|lang=pt|age=25-34|platform=ios"
	msg := map[string]uint64{
		"reach.kind.message_sent": 1, "reach.peer.individual": 1, "reach.media.text": 1,
	}
	with := func(base map[string]uint64, kv ...any) map[string]uint64 {
		m := maps.Clone(base)
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = uint64(kv[i+1].(int))
		}
		return m
	}
	tests := []struct {
		name   string
		bounds Bounds
		adds   []add
		want   []cohortView
	}{
		{
			name: "one event",
			adds: []add{{1, 10, event(), Counted}},
			want: []cohortView{{brAndroid, 1, 1, with(msg, "sum.kind.message_sent", 1, "sum.peer.individual", 1, "sum.media.text", 1, "hist.events.1", 1)}},
		},
		{
			name: "first event fixes the cohort",
			adds: []add{{1, 10, event(), Counted}, {1, 11, event(platform(schemas.PlatformIOS)), Counted}},
			want: []cohortView{{brAndroid, 1, 2, with(msg, "sum.kind.message_sent", 2, "sum.peer.individual", 2, "sum.media.text", 2, "hist.events.2_5", 1)}},
		},
		{
			name: "another user, another cohort",
			adds: []add{{1, 10, event(), Counted}, {2, 11, event(platform(schemas.PlatformIOS)), Counted}},
			want: []cohortView{
				{brAndroid, 1, 1, with(msg, "sum.kind.message_sent", 1, "sum.peer.individual", 1, "sum.media.text", 1, "hist.events.1", 1)},
				{brIOS, 1, 1, with(msg, "sum.kind.message_sent", 1, "sum.peer.individual", 1, "sum.media.text", 1, "hist.events.1", 1)},
			},
		},
		{
			name: "duplicate id of one user counts once, whatever its content",
			adds: []add{{1, 10, event(), Counted}, {1, 10, event(), Duplicate}, {1, 10, event(call(60)), Duplicate}},
			want: []cohortView{{brAndroid, 1, 1, with(msg, "sum.kind.message_sent", 1, "sum.peer.individual", 1, "sum.media.text", 1, "hist.events.1", 1)}},
		},
		{
			name: "an id deduplicates only its own user's events",
			adds: []add{{1, 10, event(), Counted}, {2, 10, event(), Counted}, {2, 10, event(), Duplicate}, {1, 10, event(), Duplicate}},
			want: []cohortView{{brAndroid, 2, 2, with(msg, "reach.kind.message_sent", 2, "reach.peer.individual", 2, "reach.media.text", 2,
				"sum.kind.message_sent", 2, "sum.peer.individual", 2, "sum.media.text", 2, "hist.events.1", 2)}},
		},
		{
			name:   "events beyond the bound count for reach and histogram only",
			bounds: Bounds{Events: 2, CallSeconds: 3600},
			adds:   []add{{1, 10, event(), Counted}, {1, 11, event(), Counted}, {1, 12, event(call(50)), Bounded}, {1, 12, event(call(50)), Duplicate}},
			want: []cohortView{{brAndroid, 1, 2, with(msg, "sum.kind.message_sent", 2, "sum.peer.individual", 2, "sum.media.text", 2,
				"reach.kind.call", 1, "reach.media.voice", 1, "hist.events.2_5", 1)}},
		},
		{
			name:   "call seconds clamped per user",
			bounds: Bounds{Events: 100, CallSeconds: 100},
			adds:   []add{{1, 10, event(call(60)), Counted}, {1, 11, event(call(60)), Counted}, {1, 12, event(call(60)), Counted}, {2, 13, event(call(99)), Counted}},
			want: []cohortView{{brAndroid, 2, 4, map[string]uint64{
				"reach.kind.call": 2, "reach.peer.individual": 2, "reach.media.voice": 2,
				"sum.kind.call": 4, "sum.peer.individual": 4, "sum.media.voice": 4,
				"sum.call_seconds": 100 + 99, "hist.events.1": 1, "hist.events.2_5": 1,
			}}},
		},
		{
			name: "business category",
			adds: []add{{1, 10, event(business("retail_fashion")), Counted}, {1, 11, event(business("retail_fashion")), Counted}},
			want: []cohortView{{brAndroid, 1, 2, map[string]uint64{
				"reach.kind.catalog_viewed": 1, "reach.peer.business": 1, "reach.media.image": 1, "reach.category.retail_fashion": 1,
				"reach.category_group.shopping": 1, // once, for two events of the group
				"sum.kind.catalog_viewed":       2, "sum.peer.business": 2, "sum.media.image": 2, "sum.category.retail_fashion": 2,
				"hist.events.2_5": 1,
			}}},
		},
		{
			name: "minors are excluded and their ids not stored",
			adds: []add{{1, 10, event(minor), Minor}, {1, 10, event(minor), Minor}, {2, 10, event(), Counted}},
			want: []cohortView{{brAndroid, 1, 1, with(msg, "sum.kind.message_sent", 1, "sum.peer.individual", 1, "sum.media.text", 1, "hist.events.1", 1)}},
		},
		{
			name: "a minor's later events are left out too, whatever their age",
			adds: []add{{1, 10, event(minor, platform(schemas.PlatformIOS)), Minor}, {1, 11, event(), Minor}, {2, 12, event(), Counted}},
			want: []cohortView{{brAndroid, 1, 1, with(msg, "sum.kind.message_sent", 1, "sum.peer.individual", 1, "sum.media.text", 1, "hist.events.1", 1)}},
		},
		{
			name: "13-17, unknown, 13-17: the user is in no cohort",
			adds: []add{{1, 10, event(minor), Minor}, {1, 11, event(age(schemas.AgeUnknown)), Minor}, {1, 12, event(minor), Minor}},
		},
		{
			name:   "a minor's events before the minor one are taken out again",
			bounds: Bounds{Events: 2, CallSeconds: 100},
			adds: []add{
				{1, 10, event(age(schemas.AgeUnknown)), Counted},
				{2, 11, event(age(schemas.AgeUnknown), call(40)), Counted},
				{1, 12, event(age(schemas.AgeUnknown), call(70)), Counted},
				{1, 13, event(age(schemas.AgeUnknown), business("retail_fashion")), Bounded},
				{1, 14, event(age(schemas.AgeUnknown), call(70)), Bounded},
				{1, 15, event(minor), Minor},
				{1, 16, event(age(schemas.AgeUnknown)), Minor},
			},
			want: []cohortView{{"country=BR|lang=pt|age=unknown|platform=android", 1, 1, map[string]uint64{
				"reach.kind.call": 1, "reach.peer.individual": 1, "reach.media.voice": 1,
				"sum.kind.call": 1, "sum.peer.individual": 1, "sum.media.voice": 1,
				"sum.call_seconds": 40, "hist.events.1": 1,
			}}},
		},
		{
			name: "a cohort whose only user turned out a minor is not published",
			adds: []add{{1, 10, event(), Counted}, {2, 11, event(platform(schemas.PlatformIOS)), Counted}, {1, 12, event(minor), Minor}},
			want: []cohortView{{brIOS, 1, 1, with(msg, "sum.kind.message_sent", 1, "sum.peer.individual", 1, "sum.media.text", 1, "hist.events.1", 1)}},
		},
		{
			name: "sensitive categories are excluded and their ids not stored",
			adds: []add{{1, 10, event(business("health")), Sensitive}, {1, 11, event(business("religion")), Sensitive}, {1, 10, event(), Counted}},
			want: []cohortView{{brAndroid, 1, 1, with(msg, "sum.kind.message_sent", 1, "sum.peer.individual", 1, "sum.media.text", 1, "hist.events.1", 1)}},
		},
		{
			name: "only excluded events: no user, no partial",
			adds: []add{{1, 10, event(minor), Minor}, {2, 11, event(business("politics")), Sensitive}},
		},
		{
			name: "zero user and zero event id are ordinary values",
			adds: []add{{0, 0, event(), Counted}, {0, 0, event(), Duplicate}, {0, 1, event(), Counted}},
			want: []cohortView{{brAndroid, 1, 2, with(msg, "sum.kind.message_sent", 2, "sum.peer.individual", 2, "sum.media.text", 2, "hist.events.2_5", 1)}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := DefaultSpec()
			if tt.bounds != (Bounds{}) {
				spec.Bounds = tt.bounds
			}
			s := NewWindowState(&spec, testWindow)
			users := map[UserID]bool{}
			for i, a := range tt.adds {
				if got := s.Add(a.user, a.id, a.e); got != a.want {
					t.Errorf("Add #%d = %s, want %s", i, got, a.want)
				}
				if a.want == Counted || a.want == Bounded {
					users[a.user] = true
				}
			}
			for _, a := range tt.adds {
				if a.e.Age == schemas.AgeMinor {
					delete(users, a.user) // a minor counts nowhere
				}
			}
			if s.Users() != len(users) {
				t.Errorf("Users() = %d, want %d", s.Users(), len(users))
			}
			if got := view(s.Partials()); !equalViews(got, tt.want) {
				t.Errorf("partials\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func equalViews(a, b []cohortView) bool {
	return slices.EqualFunc(a, b, func(x, y cohortView) bool {
		return x.Key == y.Key && x.Users == y.Users && x.Events == y.Events && maps.Equal(x.Values, y.Values)
	})
}

// TestHistogramBoundaries puts one user at each side of every bucket
// boundary; a tight events bound shows the histogram counts raw events.
func TestHistogramBoundaries(t *testing.T) {
	spec := DefaultSpec()
	spec.Bounds.Events = 3
	s := NewWindowState(&spec, testWindow)
	id := uint64(0)
	for _, n := range []int{1, 2, 5, 6, 20, 21, 100, 101, 1000} {
		for range n {
			id++
			s.Add(UserID(n), id, event())
		}
	}
	got := view(s.Partials())[0].Values
	want := map[string]uint64{"1": 1, "2_5": 2, "6_20": 2, "21_100": 2, "101_plus": 2}
	for name, n := range want {
		if got["hist.events."+name] != n {
			t.Errorf("hist.events.%s = %d, want %d", name, got["hist.events."+name], n)
		}
	}
	// Bounded: 1 + 2 + 3·7 events count.
	if got["sum.kind.message_sent"] != 24 {
		t.Errorf("sum.kind.message_sent = %d, want 24", got["sum.kind.message_sent"])
	}
}

func TestPartialsOrderAndIdempotence(t *testing.T) {
	spec := DefaultSpec()
	s := NewWindowState(&spec, testWindow)
	for u := range 40 {
		e := event(platform(schemas.Platform(u%4)), func(e *schemas.Event) { e.Age = schemas.AgeBand(1 + u%7) })
		s.Add(UserID(u), uint64(u), e)
	}
	a, b := s.Partials(), s.Partials()
	if len(a) != 28 {
		t.Fatalf("%d partials, want 28", len(a))
	}
	for i := range a {
		if a[i].ID != a[i].Key.ID() {
			t.Errorf("partial %d: ID %d, Key.ID() %d", i, a[i].ID, a[i].Key.ID())
		}
		if i > 0 && a[i-1].ID >= a[i].ID {
			t.Errorf("partials not ordered by id at %d", i)
		}
	}
	if !equalViews(view(a), view(b)) {
		t.Error("a second Partials call differs")
	}
	a[0].Values[0] = 12345 // the caller owns the result
	if view(s.Partials())[0].Values[FeatureSetV1()[0].Name] == 12345 {
		t.Error("Partials shares memory with the state")
	}
}

func TestAddOutsideWindowPanics(t *testing.T) {
	spec := DefaultSpec()
	s := NewWindowState(&spec, testWindow)
	defer func() {
		if recover() == nil {
			t.Error("no panic for an event after the window")
		}
	}()
	s.Add(1, 1, event(func(e *schemas.Event) { e.TS = testWindow.End }))
}

// TestAddNoAllocs: in steady state (tables reserved, cohort known) Add
// does not allocate.
func TestAddNoAllocs(t *testing.T) {
	spec := DefaultSpec()
	s := NewWindowState(&spec, testWindow)
	s.Reserve(Size{Users: 1000, Events: 10000, Cohorts: 1})
	e := event()
	s.Add(0, 0, e)
	id := uint64(0)
	n := testing.AllocsPerRun(5000, func() {
		id++
		s.Add(UserID(id%1000), id, e)
	})
	if n != 0 {
		t.Errorf("%v allocations per Add", n)
	}
}

func TestOutcomeString(t *testing.T) {
	want := []string{"counted", "duplicate", "minor", "sensitive", "bounded", "overflow"}
	for o := range Outcome(NumOutcomes) {
		if o.String() != want[o] {
			t.Errorf("Outcome(%d) = %s, want %s", o, o, want[o])
		}
	}
	if Outcome(NumOutcomes).String() != "invalid" {
		t.Error("out of range outcome")
	}
}

// TestOverflow: once the user table cannot grow, new users are Overflow
// and change nothing, while users already in the window still count.
func TestOverflow(t *testing.T) {
	spec := DefaultSpec()
	s := NewWindowState(&spec, testWindow)
	s.maxSlots = minSlots + 1 // one table of minSlots, never grown
	full := limitOf(minSlots)
	for u := range full {
		if got := s.Add(UserID(u), uint64(u), event()); got != Counted {
			t.Fatalf("user %d: %s, want counted", u, got)
		}
	}
	if got := s.Add(UserID(full), 1, event()); got != Overflow {
		t.Errorf("a new user in a full window: %s, want overflow", got)
	}
	if got := s.Add(UserID(full), 1, event(minor)); got != Overflow {
		t.Errorf("a new minor in a full window: %s, want overflow", got)
	}
	if got := s.Add(UserID(3), 1000, event()); got != Counted {
		t.Errorf("a known user in a full window: %s, want counted", got)
	}
	if s.Users() != full {
		t.Errorf("Users() = %d, want %d", s.Users(), full)
	}
	var events uint64
	for _, p := range s.Partials() {
		events += p.Events
	}
	if events != uint64(full)+1 {
		t.Errorf("partials hold %d events, want %d", events, full+1)
	}
}

// TestNobodyErasesAnotherUsersEvents is finding 1 of issue 12: one user who
// sends the ids of 1,000 other users' events first used to make all of
// them duplicates and empty the cohort. Now every victim still counts, and
// so do producers that number events per device ("1", "2", …).
func TestNobodyErasesAnotherUsersEvents(t *testing.T) {
	spec := DefaultSpec()
	s := NewWindowState(&spec, testWindow)
	r := mustRekeyer(t, testSecret)
	const victims = 1000
	attacker := r.User([]byte("attacker-token-0000"))
	for i := range victims {
		id := r.EventID(fmt.Appendf(nil, "victim-event-%d", i))
		s.Add(attacker, id, event(platform(schemas.PlatformIOS)))
	}
	duplicates := 0
	for i := range victims {
		user := r.User(fmt.Appendf(nil, "victim-token-%06d", i))
		if s.Add(user, r.EventID(fmt.Appendf(nil, "victim-event-%d", i)), event()) == Duplicate {
			duplicates++
		}
		if s.Add(user, r.EventID([]byte("1")), event()) == Duplicate { // a per-device counter
			duplicates++
		}
	}
	if duplicates != 0 {
		t.Errorf("%d victim events taken for duplicates, want 0", duplicates)
	}
	for _, p := range s.Partials() {
		if p.Key.String() == "country=BR|lang=pt|age=25-34|platform=android" && (p.Users != victims || p.Events != 2*victims) {
			t.Errorf("victims' cohort: %d users, %d events; want %d and %d", p.Users, p.Events, victims, 2*victims)
		}
	}
}
