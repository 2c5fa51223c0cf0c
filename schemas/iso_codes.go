package schemas

// The code lists below are the officially assigned codes as published by the
// ISO 3166 and ISO 639 maintenance agencies (checked against Debian's
// iso-codes 4.15 data, see TestISOCodesMatchDebian). They change a few times
// a decade: update the list, the JSON Schema and the test together.

// countryCodes are the 249 officially assigned ISO 3166-1 alpha-2 codes.
// User-assigned codes such as XK (Kosovo) and reserved ones such as UK or EU
// are not accepted.
const countryCodes = "" +
	"AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ " +
	"BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ " +
	"CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ " +
	"DE DJ DK DM DO DZ " +
	"EC EE EG EH ER ES ET " +
	"FI FJ FK FM FO FR " +
	"GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY " +
	"HK HM HN HR HT HU " +
	"ID IE IL IM IN IO IQ IR IS IT " +
	"JE JM JO JP " +
	"KE KG KH KI KM KN KP KR KW KY KZ " +
	"LA LB LC LI LK LR LS LT LU LV LY " +
	"MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ " +
	"NA NC NE NF NG NI NL NO NP NR NU NZ " +
	"OM " +
	"PA PE PF PG PH PK PL PM PN PR PS PT PW PY " +
	"QA " +
	"RE RO RS RU RW " +
	"SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ " +
	"TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ " +
	"UA UG UM US UY UZ " +
	"VA VC VE VG VI VN VU " +
	"WF WS " +
	"YE YT " +
	"ZA ZM ZW"

// langCodes are the 184 ISO 639-1 codes. Withdrawn codes that old Java and
// Android locales still emit (iw, in, ji, jw, mo) and sh are not accepted:
// producers send he, id, yi, jv, ro and sr/hr/bs. bh (Bihari languages) is
// kept as the ISO 639-2 registry still lists it.
const langCodes = "" +
	"aa ab ae af ak am an ar as av ay az " +
	"ba be bg bh bi bm bn bo br bs " +
	"ca ce ch co cr cs cu cv cy " +
	"da de dv dz " +
	"ee el en eo es et eu " +
	"fa ff fi fj fo fr fy " +
	"ga gd gl gn gu gv " +
	"ha he hi ho hr ht hu hy hz " +
	"ia id ie ig ii ik io is it iu " +
	"ja jv " +
	"ka kg ki kj kk kl km kn ko kr ks ku kv kw ky " +
	"la lb lg li ln lo lt lu lv " +
	"mg mh mi mk ml mn mr ms mt my " +
	"na nb nd ne ng nl nn no nr nv ny " +
	"oc oj om or os " +
	"pa pi pl ps pt " +
	"qu " +
	"rm rn ro ru rw " +
	"sa sc sd se sg si sk sl sm sn so sq sr ss st su sv sw " +
	"ta te tg th ti tk tl tn to tr ts tt tw ty " +
	"ug uk ur uz " +
	"ve vi vo " +
	"wa wo " +
	"xh " +
	"yi yo " +
	"za zh zu"

// codeTable is a 26×26 bitset of two-letter codes: row = first letter,
// bit = second letter. A lookup is two subtractions, a compare and a shift.
type codeTable [26]uint32

// newCodeTable builds a table from space-separated codes of two letters
// whose first byte is base ('A' or 'a').
func newCodeTable(codes string, base byte) (t codeTable) {
	for i := 0; i+1 < len(codes); i += 3 {
		t[codes[i]-base] |= 1 << (codes[i+1] - base)
	}
	return t
}

func (t *codeTable) has(a, b, base byte) bool {
	a, b = a-base, b-base // bytes below base wrap around to ≥ 26
	return a < 26 && b < 26 && t[a]&(1<<b) != 0
}

var (
	countryTable = newCodeTable(countryCodes, 'A')
	langTable    = newCodeTable(langCodes, 'a')
)

// Valid reports whether c is an officially assigned ISO 3166-1 alpha-2 code
// in upper case.
func (c Country) Valid() bool { return countryTable.has(c[0], c[1], 'A') }

// Valid reports whether l is an ISO 639-1 code in lower case.
func (l Lang) Valid() bool { return langTable.has(l[0], l[1], 'a') }

// Countries returns every accepted country code, sorted.
func Countries() []Country { return splitCodes[Country](countryCodes) }

// Langs returns every accepted language code, sorted.
func Langs() []Lang { return splitCodes[Lang](langCodes) }

func splitCodes[T ~[2]byte](codes string) []T {
	out := make([]T, 0, (len(codes)+1)/3)
	for i := 0; i+1 < len(codes); i += 3 {
		out = append(out, T{codes[i], codes[i+1]})
	}
	return out
}
