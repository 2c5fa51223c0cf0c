package schemas

// Version is the only event format version this code accepts ("v": 1).
const Version = 1

// MaxEventBytes is the largest message accepted (DESIGN.md: ≤ 64 KiB).
const MaxEventBytes = 64 << 10

// MaxUnits is the largest value of the "n" field (one day of call seconds).
const MaxUnits = 86400

// Event is one activity event of format v1, decoded and validated.
//
// Enumerated fields are stored as small integer codes so that decoding does
// not allocate. ID and User are the raw bytes of those fields; after
// Decoder.Decode they alias the decoder's buffers (or the input) and are
// valid only until the next call: copy them if they must outlive it. The
// user token in particular is meant to be re-keyed right away and dropped.
type Event struct {
	ID       []byte // producer event id, 1–64 Unicode code points (at most 256 bytes)
	User     []byte // pseudonymous user token, 16–128 bytes of [A-Za-z0-9_-]
	TS       int64  // event time, Unix epoch milliseconds
	N        int32  // units: 1 per message, seconds for a call
	Category Category
	Kind     Kind
	Peer     Peer
	Media    Media
	Age      AgeBand
	Platform Platform
	Country  Country
	Lang     Lang
}

// NeedsCategory reports whether the contract requires a business category
// for this event: peer is business, or the kind is a catalog view or order.
func (e *Event) NeedsCategory() bool {
	return e.Peer == PeerBusiness || e.Kind == KindCatalogViewed || e.Kind == KindOrderPlaced
}

// Country is an ISO 3166-1 alpha-2 code, upper case ("BR").
type Country [2]byte

func (c Country) String() string { return string(c[:]) }

// Lang is an ISO 639-1 code, lower case ("pt").
type Lang [2]byte

func (l Lang) String() string { return string(l[:]) }
