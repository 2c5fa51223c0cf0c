package cohorts

import (
	"fmt"

	"github.com/cohortline/cohortline/schemas"
)

// FeatureSetVersion is the version of the feature layout that Partial
// values and published vectors follow (the feature_set column).
const FeatureSetVersion = 1

// FeatureKind says how a slot aggregates its users, and so how much one
// user can change it (Feature.MaxPerUser).
type FeatureKind uint8

const (
	// FeatureReach counts distinct users who did something at least once.
	FeatureReach FeatureKind = iota + 1
	// FeatureSum adds up a bounded per-user quantity (events, seconds).
	FeatureSum
	// FeatureHistogram counts users whose window activity falls in a range;
	// each user is in exactly one bucket.
	FeatureHistogram
)

func (k FeatureKind) String() string {
	switch k {
	case FeatureReach:
		return "reach"
	case FeatureSum:
		return "sum"
	case FeatureHistogram:
		return "histogram"
	}
	return "invalid"
}

// Feature names one slot of Partial.Values and of the published vector:
// the feature_dictionary row of that slot.
type Feature struct {
	Index       int    // position in the vector, from 0
	Name        string // "reach.kind.message_sent", stable forever
	Description string // for people reading dashboards
	Unit        string // "users", "events" or "seconds"
	Kind        FeatureKind
	// Group is the dimension group of a reach or event-sum slot: "kind",
	// "peer", "media" or "category"; empty for the histogram and call
	// seconds. One event adds to at most one slot per group, which is
	// what bounds the sensitivity of a group's sums taken together (see
	// MaxPerUser). It is not part of the feature_dictionary.
	Group string
}

// MaxPerUser is how much one user's events in one window can add to this
// slot (its L∞ sensitivity, for the noise of the DP step): 1 for reach and
// histogram slots, the events bound for event sums, the call-seconds
// bound for call seconds.
//
// Across slots: a user adds 1 to at most one histogram slot and to at most
// one reach and one sum slot per group (kind, peer, media, category) per
// event; over all event sums of one group together a user adds at most the
// events bound, like the events column.
func (f Feature) MaxPerUser(s Spec) uint64 {
	switch {
	case f.Kind != FeatureSum:
		return 1
	case f.Index == v1.callSlot:
		return uint64(effectiveCallBound(s))
	default:
		return uint64(effectiveEventsBound(s))
	}
}

// Histogram buckets of users by their deduplicated events in the window
// (bounded events included): [1], [2,5], [6,20], [21,100], [101,∞).
var histUpper = [...]uint32{1, 5, 20, 100}

const numHistBuckets = len(histUpper) + 1

var histNames = [numHistBuckets]string{"1", "2_5", "6_20", "21_100", "101_plus"}
var histText = [numHistBuckets]string{"exactly 1 event", "2 to 5 events", "6 to 20 events", "21 to 100 events", "more than 100 events"}

// histBucket returns the bucket of a user with n ≥ 1 events.
func histBucket(n uint32) int {
	for i, u := range histUpper {
		if n <= u {
			return i
		}
	}
	return len(histUpper)
}

// v1TaxonomyLen is the number of taxonomy entries that feature set v1
// covers. A category appended to the taxonomy later has no slot in v1
// (its events still count in the kind, peer and media slots): giving it
// one is a feature-set change, append-only (TestFeatureSetCoversTaxonomy
// fails until someone decides).
const v1TaxonomyLen = 36

// layout is feature set v1 as indexes for the aggregation hot path.
//
// Slot order, the public contract (append only):
//
//	[0, R)      reach: kinds, peers, media, non-sensitive categories
//	[R, 2R)     bounded event sums, same order as reach
//	[2R, 2R+5)  histogram of users by events: 1, 2–5, 6–20, 21–100, >100
//	2R+5        call seconds, bounded
//
// A "reach dimension" i (one kind, peer, media or category) has reach
// slot i and sum slot R+i; a user's reach set is a uint64 with bit i.
type layout struct {
	features  []Feature
	numReach  int // R
	histSlot  int // first histogram slot
	callSlot  int
	kindBit   [schemas.NumKinds]uint64
	peerBit   [schemas.NumPeers]uint64
	mediaBit  [schemas.NumMedia]uint64
	catBit    [schemas.NumCategories + 1]uint64 // 0 for none, sensitive or not in v1
	sensitive [schemas.NumCategories + 1]bool   // by category code, from the live taxonomy
	numValues int
}

var v1 = newLayoutV1()

// FeatureSetV1 returns the feature dictionary of feature set v1: one entry
// per slot of Partial.Values, in slot order. The caller may modify the
// returned slice.
func FeatureSetV1() []Feature { return append([]Feature(nil), v1.features...) }

// NumFeaturesV1 is len(FeatureSetV1()), the length of Partial.Values.
func NumFeaturesV1() int { return v1.numValues }

func newLayoutV1() *layout {
	l := &layout{}
	for _, c := range schemas.Categories() {
		l.sensitive[c] = c.Sensitive()
	}
	type dim struct{ group, value, text string }
	var dims []dim
	for k := range schemas.Kind(schemas.NumKinds) {
		l.kindBit[k] = 1 << len(dims)
		dims = append(dims, dim{"kind", k.String(), "of kind " + k.String()})
	}
	for p := range schemas.Peer(schemas.NumPeers) {
		l.peerBit[p] = 1 << len(dims)
		dims = append(dims, dim{"peer", p.String(), "with peer " + p.String()})
	}
	for m := range schemas.Media(schemas.NumMedia) {
		l.mediaBit[m] = 1 << len(dims)
		dims = append(dims, dim{"media", m.String(), "with media " + m.String()})
	}
	for _, c := range schemas.Categories()[:min(v1TaxonomyLen, schemas.NumCategories)] {
		if c.Sensitive() {
			continue // never a slot: GDPR art. 9 categories feed no feature
		}
		l.catBit[c] = 1 << len(dims)
		dims = append(dims, dim{"category", c.String(), "with a business of category " + c.String() + " (" + c.Info().Title + ")"})
	}
	l.numReach = len(dims)
	if l.numReach > reachBits {
		panic(fmt.Sprintf("BUG: feature set v1 has %d reach dimensions, the user state holds %d", l.numReach, reachBits))
	}
	if schemas.NumKinds > 8 || schemas.NumPeers > 4 || schemas.NumMedia > 8 || schemas.NumCategories >= 64 {
		panic("BUG: an event's dimensions no longer fit the 15 bits of eventCode")
	}
	add := func(name, desc, unit string, kind FeatureKind, group string) {
		l.features = append(l.features, Feature{Index: len(l.features), Name: name, Description: desc, Unit: unit, Kind: kind, Group: group})
	}
	for _, d := range dims {
		add("reach."+d.group+"."+d.value, "Distinct users with at least one event "+d.text, "users", FeatureReach, d.group)
	}
	for _, d := range dims {
		add("sum."+d.group+"."+d.value, "Events "+d.text+", counting at most the events bound per user", "events", FeatureSum, d.group)
	}
	l.histSlot = len(l.features)
	for i, n := range histNames {
		add("hist.events."+n, "Distinct users with "+histText[i]+" in the window (deduplicated, bounded events included)", "users", FeatureHistogram, "")
	}
	l.callSlot = len(l.features)
	add("sum.call_seconds", "Call seconds, at most the call-seconds bound per user", "seconds", FeatureSum, "")
	l.numValues = len(l.features)
	return l
}

// reachDims returns the reach set of an event: one bit for its kind, peer
// and media, and one for its category when it has a v1 slot.
func (l *layout) reachDims(e *schemas.Event) uint64 {
	d := l.kindBit[e.Kind] | l.peerBit[e.Peer] | l.mediaBit[e.Media]
	if int(e.Category) < len(l.catBit) {
		d |= l.catBit[e.Category]
	}
	return d
}

// codeCounted marks the code of a counted event: one that added to the
// sums (a bounded event's code is 0).
const codeCounted = 1 << 15

// eventCode packs what a counted event adds to the sums, for the dedup
// set's journal (id_set.go): its kind (3 bits), peer (2), media (3) and
// category (6), and codeCounted.
func eventCode(e *schemas.Event) uint16 {
	return uint16(e.Kind) | uint16(e.Peer)<<3 | uint16(e.Media)<<5 | uint16(e.Category)<<8 | codeCounted
}

// codeDims returns the reach set of the event behind a code: reachDims of
// the event that eventCode packed.
func (l *layout) codeDims(c uint16) uint64 {
	d := l.kindBit[c&7] | l.peerBit[c>>3&3] | l.mediaBit[c>>5&7]
	if cat := int(c >> 8 & 63); cat < len(l.catBit) {
		d |= l.catBit[cat]
	}
	return d
}
