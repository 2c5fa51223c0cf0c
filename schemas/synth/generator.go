package synth

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"

	"github.com/cohortline/cohortline/schemas"
)

// Generator streams the records of one Config. It is not safe for
// concurrent use.
type Generator struct {
	cfg      Config
	pop      population
	act      activity
	users    alias // activity of users (Zipf over population index)
	badMix   alias
	timeline timeline
	rng      *rand.Rand

	// Cumulative thresholds on one uniform draw per record: below bad the
	// record is bad, then duplicate, late, out-of-order; else in order.
	tBad, tDup, tLate, tOOO float64
	jitterMS, lateMS        int64

	emitted int64 // records so far
	seq     uint64
	idKey   uint64
	high    int64 // latest event time of a good record so far
	started bool  // high is set
	recent  recentEvents

	ev    schemas.Event
	id    [idLen]byte
	line  []byte
	rec   Record
	stats Stats
	pad   []byte // filler of too_large records, built on first use

	scratch, num []byte // for editing bad records without allocating
}

// Zipf–Mandelbrot shift of user activity (see zipfWeights).
const activityShift = 10

// New checks cfg (after filling its defaults) and builds the population
// and sampling tables: O(Users) time and about 60 bytes per user.
func New(cfg Config) (*Generator, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	g := &Generator{
		cfg:      cfg,
		pop:      newPopulation(&cfg),
		act:      newActivity(&cfg),
		users:    newAlias(zipfWeights(cfg.Users, cfg.ActivitySkew, activityShift)),
		timeline: newTimeline(cfg.Start, cfg.Span, cfg.Events),
		rng:      rand.New(rand.NewPCG(cfg.Seed, streamRecords)),
		jitterMS: cfg.Jitter.Milliseconds(),
		lateMS:   cfg.LateDelay.Milliseconds(),
		idKey:    mix64(cfg.Seed ^ streamIDs),
		line:     make([]byte, 0, 512),
	}
	w := cfg.BadMix.weights()
	g.badMix = newAlias(w[:])
	g.tBad = cfg.Bad
	g.tDup = g.tBad + cfg.Duplicates
	g.tLate = g.tDup + cfg.Late
	g.tOOO = g.tLate + cfg.OutOfOrder
	return g, nil
}

// Config returns the configuration in use, defaults filled in.
func (g *Generator) Config() Config { return g.cfg }

// Stats returns the counts of the records generated so far.
func (g *Generator) Stats() Stats { return g.stats }

// Next generates the next record. It returns false after Config.Events
// records. The record is valid until the next call.
func (g *Generator) Next() (*Record, bool) {
	if g.emitted >= g.cfg.Events {
		return nil, false
	}
	base := g.timeline.at(g.emitted, g.rng.Float64())
	g.emitted++
	g.stats.Records++
	g.rec = Record{Event: &g.ev}
	switch u := g.rng.Float64(); {
	case u < g.tBad:
		g.bad(base)
	case u < g.tDup && g.recent.len() > 0:
		g.duplicate()
	case u < g.tDup: // nothing to re-send yet
		g.event(base, InOrder)
	case u < g.tLate:
		g.event(base, Late)
	case u < g.tOOO:
		g.event(base, OutOfOrder)
	default:
		g.event(base, InOrder)
	}
	return &g.rec, true
}

// event emits a new valid event with its time displaced as timing says.
func (g *Generator) event(base int64, timing Timing) {
	if !g.started { // nothing to be late relative to
		timing = InOrder
	}
	g.newEvent(base)
	switch timing {
	case Late:
		g.ev.TS = g.high - g.lateMS - g.rng.Int64N(g.lateMS)
		g.stats.Late++
	case OutOfOrder:
		g.ev.TS = g.high - 1 - g.rng.Int64N(g.jitterMS)
		g.stats.OutOfOrder++
	default:
		g.high, g.started = base, true // base times never decrease
	}
	g.stats.Events++
	g.recent.push(g.rec.User, g.seq, &g.ev)
	g.rec.Kind, g.rec.Timing = RecordEvent, timing
	g.line = schemas.AppendJSON(g.line[:0], &g.ev)
	g.rec.Line, g.rec.Key = g.line, g.ev.User
}

// newEvent draws a user and the content of a new event at time ts into
// g.ev, with a fresh id.
func (g *Generator) newEvent(ts int64) {
	i := g.users.sample(g.rng.Uint64())
	u := &g.pop.users[i]
	g.seq++
	putID(&g.id, g.idKey, g.seq)
	g.ev = schemas.Event{
		ID:       g.id[:],
		User:     g.pop.token(i),
		TS:       ts,
		Country:  u.country,
		Lang:     u.lang,
		Age:      u.age,
		Platform: u.platform,
	}
	if u.drifts && g.rng.Float64() < driftProb {
		g.ev.Lang, g.ev.Platform = u.altLang, u.altPlatform
		if u.age == schemas.AgeMinor {
			g.ev.Age = schemas.AgeUnknown // the other device does not know the age
		}
	}
	g.act.fill(&g.ev, g.rng)
	g.rec.User = i
}

// duplicate re-sends one of the recent events unchanged.
func (g *Generator) duplicate() {
	r := g.recent.pick(g.rng.Uint64())
	putID(&g.id, g.idKey, r.seq)
	r.restore(&g.ev, g.id[:], g.pop.token(int(r.user)))
	g.stats.Duplicates++
	g.rec.Kind, g.rec.User = RecordDuplicate, int(r.user)
	g.line = schemas.AppendJSON(g.line[:0], &g.ev)
	g.rec.Line, g.rec.Key = g.line, g.ev.User
}

// ndjsonCheckEvery is how many records WriteNDJSON writes between checks of
// its context: cheap enough to be invisible, often enough to stop within a
// few milliseconds.
const ndjsonCheckEvery = 4096

// WriteNDJSON writes the remaining records to w, one per line. Wrap w in a
// bufio.Writer: it is called once per record.
func (g *Generator) WriteNDJSON(ctx context.Context, w io.Writer) error {
	for n := 0; ; n++ {
		if n%ndjsonCheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		rec, ok := g.Next()
		if !ok {
			return nil
		}
		line := append(rec.Line, '\n')
		g.line = line[:0] // keep any capacity the append added
		if _, err := w.Write(line); err != nil {
			return fmt.Errorf("writing record %d: %w", g.emitted, err)
		}
	}
}
