package synth

import (
	"math"
	"math/rand/v2"

	"github.com/cohortline/cohortline/schemas"
)

// What one event is: kind, peer, media, category and units. Mixes are
// plausible for a messaging app: messages dominate, status views come
// next, calls are a few percent; business traffic is chats with shops,
// catalog views and some orders.
var (
	privateKindWeights = [schemas.NumKinds]float64{
		schemas.KindMessageSent:  80,
		schemas.KindCall:         5,
		schemas.KindStatusPosted: 2.5,
		schemas.KindStatusViewed: 10.5,
		schemas.KindGroupJoined:  2,
	}
	businessKindWeights = [schemas.NumKinds]float64{
		schemas.KindMessageSent:   62,
		schemas.KindCall:          7,
		schemas.KindCatalogViewed: 25,
		schemas.KindOrderPlaced:   6,
	}
	// Media by kind, indexed by schemas.Media.
	mediaWeights = [schemas.NumKinds][schemas.NumMedia]float64{
		schemas.KindMessageSent:   {62, 14, 5, 8, 3, 8, 0},
		schemas.KindCall:          {0, 0, 15, 85, 0, 0, 0},
		schemas.KindStatusPosted:  {15, 50, 35, 0, 0, 0, 0},
		schemas.KindStatusViewed:  {15, 50, 35, 0, 0, 0, 0},
		schemas.KindGroupJoined:   {0, 0, 0, 0, 0, 0, 1},
		schemas.KindCatalogViewed: {0, 70, 0, 0, 0, 0, 30},
		schemas.KindOrderPlaced:   {0, 0, 0, 0, 0, 0, 1},
	}
	// Chats with businesses carry more documents (receipts) and fewer stickers.
	businessMessageMedia = [schemas.NumMedia]float64{75, 12, 0, 5, 8, 0, 0}
	// Share of group peers among private messages and calls.
	groupMessageShare = 0.30
	groupCallShare    = 0.08
)

// Call length: log-normal with a 60 s median; a few calls last hours.
const (
	callMedianSec = 60
	callSigma     = 1.2
)

// categoryWeights ranks the non-sensitive categories of the taxonomy by
// how often people chat with such businesses. Slugs not listed (taxonomy
// entries added later) get weight 1.
var categoryWeights = map[string]float64{
	"retail_fashion": 8, "retail_electronics": 6, "retail_home": 4, "retail_beauty": 5,
	"retail_sports": 3, "retail_toys": 2, "grocery": 9, "restaurants": 10, "travel": 5,
	"transport": 5, "automotive": 3, "real_estate": 2, "education": 4, "entertainment": 4,
	"media_publishing": 2, "telecom": 5, "software": 2, "professional_services": 3,
	"home_services": 3, "pets": 2, "finance_banking": 7, "insurance": 2, "utilities": 3,
	"government": 2, "nonprofit": 1,
}

// activity draws the content of events.
type activity struct {
	business, sensitive float64 // probabilities
	privateKinds        alias
	businessKinds       alias
	media               [schemas.NumKinds]alias
	businessMedia       alias
	plain, special      []schemas.Category
	plainTable          alias
	specialTable        alias
}

func newActivity(cfg *Config) activity {
	a := activity{
		business:      cfg.BusinessShare,
		sensitive:     cfg.SensitiveShare,
		privateKinds:  newAlias(privateKindWeights[:]),
		businessKinds: newAlias(businessKindWeights[:]),
		businessMedia: newAlias(businessMessageMedia[:]),
	}
	for k := range a.media {
		a.media[k] = newAlias(mediaWeights[k][:])
	}
	var plainW, specialW []float64
	for _, c := range schemas.Categories() {
		if c.Sensitive() {
			a.special = append(a.special, c)
			specialW = append(specialW, 1)
			continue
		}
		w, ok := categoryWeights[c.String()]
		if !ok {
			w = 1
		}
		a.plain = append(a.plain, c)
		plainW = append(plainW, w)
	}
	a.plainTable = newAlias(plainW)
	a.specialTable = newAlias(specialW)
	return a
}

// fill sets the content fields of ev (kind, peer, media, category, n).
func (a *activity) fill(ev *schemas.Event, rng *rand.Rand) {
	ev.Category = schemas.CategoryNone
	ev.N = 1
	if rng.Float64() < a.business {
		a.fillBusiness(ev, rng)
	} else {
		a.fillPrivate(ev, rng)
	}
	if ev.Kind == schemas.KindCall {
		ev.N = callSeconds(rng)
	}
}

func (a *activity) fillBusiness(ev *schemas.Event, rng *rand.Rand) {
	ev.Kind = schemas.Kind(a.businessKinds.sample(rng.Uint64()))
	ev.Peer = schemas.PeerBusiness
	if ev.Kind == schemas.KindMessageSent {
		ev.Media = schemas.Media(a.businessMedia.sample(rng.Uint64()))
	} else {
		ev.Media = schemas.Media(a.media[ev.Kind].sample(rng.Uint64()))
	}
	if rng.Float64() < a.sensitive {
		ev.Category = a.special[a.specialTable.sample(rng.Uint64())]
	} else {
		ev.Category = a.plain[a.plainTable.sample(rng.Uint64())]
	}
}

func (a *activity) fillPrivate(ev *schemas.Event, rng *rand.Rand) {
	ev.Kind = schemas.Kind(a.privateKinds.sample(rng.Uint64()))
	ev.Media = schemas.Media(a.media[ev.Kind].sample(rng.Uint64()))
	switch ev.Kind {
	case schemas.KindMessageSent:
		ev.Peer = pickPeer(rng.Float64() < groupMessageShare)
	case schemas.KindCall:
		ev.Peer = pickPeer(rng.Float64() < groupCallShare)
	case schemas.KindGroupJoined:
		ev.Peer = schemas.PeerGroup
	default: // status posted or viewed: nobody in particular
		ev.Peer = schemas.PeerNone
	}
}

func pickPeer(group bool) schemas.Peer {
	if group {
		return schemas.PeerGroup
	}
	return schemas.PeerIndividual
}

func callSeconds(rng *rand.Rand) int32 {
	s := math.Exp(math.Log(callMedianSec) + callSigma*rng.NormFloat64())
	return int32(min(max(math.Round(s), 1), schemas.MaxUnits))
}
