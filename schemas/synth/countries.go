package synth

// countryProfile is what the population draws from for users of one
// country. The figures are plausible rather than measured: what matters
// downstream is that languages agree with the country, that a few
// countries dominate, and that platforms differ by market.
type countryProfile struct {
	code  string
	langs []langShare // relative weights
	ios   float64     // share of iOS among users
}

type langShare struct {
	lang  string
	share float64
}

// countries are ranked by size of a messaging app's user base: the Zipf
// draw of CountrySkew follows this order.
var countries = []countryProfile{
	{"IN", []langShare{{"hi", 45}, {"en", 25}, {"bn", 8}, {"te", 6}, {"mr", 6}, {"ta", 6}, {"gu", 4}}, 0.05},
	{"BR", []langShare{{"pt", 97}, {"en", 2}, {"es", 1}}, 0.15},
	{"ID", []langShare{{"id", 93}, {"en", 5}, {"jv", 2}}, 0.10},
	{"US", []langShare{{"en", 78}, {"es", 20}, {"zh", 2}}, 0.58},
	{"MX", []langShare{{"es", 96}, {"en", 4}}, 0.20},
	{"PK", []langShare{{"ur", 70}, {"en", 25}, {"pa", 5}}, 0.05},
	{"NG", []langShare{{"en", 85}, {"ha", 7}, {"yo", 5}, {"ig", 3}}, 0.06},
	{"RU", []langShare{{"ru", 95}, {"en", 3}, {"uk", 2}}, 0.30},
	{"DE", []langShare{{"de", 90}, {"en", 5}, {"tr", 5}}, 0.38},
	{"IT", []langShare{{"it", 95}, {"en", 5}}, 0.30},
	{"TR", []langShare{{"tr", 95}, {"en", 3}, {"ku", 2}}, 0.18},
	{"ES", []langShare{{"es", 88}, {"ca", 8}, {"en", 4}}, 0.25},
	{"AR", []langShare{{"es", 97}, {"en", 3}}, 0.12},
	{"CO", []langShare{{"es", 97}, {"en", 3}}, 0.15},
	{"PH", []langShare{{"en", 55}, {"tl", 45}}, 0.12},
	{"EG", []langShare{{"ar", 95}, {"en", 5}}, 0.12},
	{"GB", []langShare{{"en", 94}, {"pl", 3}, {"ur", 3}}, 0.50},
	{"FR", []langShare{{"fr", 94}, {"ar", 3}, {"en", 3}}, 0.32},
	{"SA", []langShare{{"ar", 85}, {"en", 15}}, 0.45},
	{"ZA", []langShare{{"en", 55}, {"zu", 15}, {"af", 15}, {"xh", 15}}, 0.20},
	{"BD", []langShare{{"bn", 95}, {"en", 5}}, 0.04},
	{"KE", []langShare{{"en", 60}, {"sw", 40}}, 0.06},
	{"MY", []langShare{{"ms", 65}, {"en", 20}, {"zh", 15}}, 0.20},
	{"VN", []langShare{{"vi", 97}, {"en", 3}}, 0.25},
	{"PE", []langShare{{"es", 95}, {"en", 3}, {"qu", 2}}, 0.10},
	{"CL", []langShare{{"es", 97}, {"en", 3}}, 0.25},
	{"VE", []langShare{{"es", 98}, {"en", 2}}, 0.08},
	{"UA", []langShare{{"uk", 60}, {"ru", 37}, {"en", 3}}, 0.20},
	{"PL", []langShare{{"pl", 97}, {"en", 3}}, 0.20},
	{"NL", []langShare{{"nl", 88}, {"en", 12}}, 0.42},
	{"MA", []langShare{{"ar", 65}, {"fr", 35}}, 0.10},
	{"AE", []langShare{{"ar", 45}, {"en", 45}, {"hi", 10}}, 0.50},
	{"IL", []langShare{{"he", 80}, {"ar", 12}, {"ru", 5}, {"en", 3}}, 0.35},
	{"CA", []langShare{{"en", 76}, {"fr", 22}, {"zh", 2}}, 0.55},
	{"AU", []langShare{{"en", 95}, {"zh", 3}, {"vi", 2}}, 0.55},
	{"TH", []langShare{{"th", 97}, {"en", 3}}, 0.35},
	{"KR", []langShare{{"ko", 98}, {"en", 2}}, 0.30},
	{"JP", []langShare{{"ja", 98}, {"en", 2}}, 0.65},
	{"GH", []langShare{{"en", 90}, {"ak", 10}}, 0.06},
	{"ET", []langShare{{"am", 70}, {"om", 20}, {"en", 10}}, 0.03},
}

// Shares of the platforms that do not depend on the market; Android takes
// whatever iOS and these leave.
const (
	webShare     = 0.03
	desktopShare = 0.03
)

// Age bands of adult users (18-24 … unknown), relative; minors are drawn
// first with MinorShare.
var adultAgeWeights = [...]float64{20, 28, 22, 14, 9, 5, 2}
