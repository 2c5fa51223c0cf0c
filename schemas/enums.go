package schemas

// The enumerated fields of event v1. Each type is a dense code starting at 0,
// in the order DESIGN.md lists the values, so it can index feature slots
// directly. The order is part of feature set v1: append, never reorder.

// Kind is what the user did.
type Kind uint8

const (
	KindMessageSent Kind = iota
	KindCall
	KindStatusPosted
	KindStatusViewed
	KindGroupJoined
	KindCatalogViewed
	KindOrderPlaced
	NumKinds = iota
)

var kindNames = [NumKinds]string{"message_sent", "call", "status_posted", "status_viewed", "group_joined", "catalog_viewed", "order_placed"}

func (k Kind) String() string { return enumName(kindNames[:], int(k)) }

// ParseKind returns the Kind named b, or false.
func ParseKind(b []byte) (Kind, bool) { i, ok := enumIndex(kindNames[:], b); return Kind(i), ok }

// Peer is who the activity was with.
type Peer uint8

const (
	PeerIndividual Peer = iota
	PeerGroup
	PeerBusiness
	PeerNone
	NumPeers = iota
)

var peerNames = [NumPeers]string{"individual", "group", "business", "none"}

func (p Peer) String() string { return enumName(peerNames[:], int(p)) }

// ParsePeer returns the Peer named b, or false.
func ParsePeer(b []byte) (Peer, bool) { i, ok := enumIndex(peerNames[:], b); return Peer(i), ok }

// Media is the content type of the activity.
type Media uint8

const (
	MediaText Media = iota
	MediaImage
	MediaVideo
	MediaVoice
	MediaDocument
	MediaSticker
	MediaNone
	NumMedia = iota
)

var mediaNames = [NumMedia]string{"text", "image", "video", "voice", "document", "sticker", "none"}

func (m Media) String() string { return enumName(mediaNames[:], int(m)) }

// ParseMedia returns the Media named b, or false.
func ParseMedia(b []byte) (Media, bool) { i, ok := enumIndex(mediaNames[:], b); return Media(i), ok }

// AgeBand is the coarse age of the user. AgeMinor (13-17) is valid input but
// excluded from every cohort.
type AgeBand uint8

const (
	AgeMinor AgeBand = iota // 13-17
	Age18to24
	Age25to34
	Age35to44
	Age45to54
	Age55to64
	Age65Plus
	AgeUnknown
	NumAgeBands = iota
)

var ageNames = [NumAgeBands]string{"13-17", "18-24", "25-34", "35-44", "45-54", "55-64", "65+", "unknown"}

func (a AgeBand) String() string { return enumName(ageNames[:], int(a)) }

// ParseAgeBand returns the AgeBand named b, or false.
func ParseAgeBand(b []byte) (AgeBand, bool) {
	i, ok := enumIndex(ageNames[:], b)
	return AgeBand(i), ok
}

// Platform is the app the user used.
type Platform uint8

const (
	PlatformAndroid Platform = iota
	PlatformIOS
	PlatformWeb
	PlatformDesktop
	NumPlatforms = iota
)

var platformNames = [NumPlatforms]string{"android", "ios", "web", "desktop"}

func (p Platform) String() string { return enumName(platformNames[:], int(p)) }

// ParsePlatform returns the Platform named b, or false.
func ParsePlatform(b []byte) (Platform, bool) {
	i, ok := enumIndex(platformNames[:], b)
	return Platform(i), ok
}

func enumName(names []string, i int) string {
	if i < 0 || i >= len(names) {
		return "invalid"
	}
	return names[i]
}

// enumIndex is a linear scan: the lists are at most 8 short names, which is
// faster than hashing and does not allocate (string(b) in a comparison is
// optimized away by the compiler).
func enumIndex(names []string, b []byte) (int, bool) {
	for i, n := range names {
		if string(b) == n {
			return i, true
		}
	}
	return 0, false
}
