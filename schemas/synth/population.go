package synth

import (
	"math/rand/v2"

	"github.com/cohortline/cohortline/schemas"
)

// user holds a user's fixed attributes. A drifting user uses its alt
// platform and language on some events (a second device, a switched UI
// language), so the attributes of a user's first event in a window are not
// always those of its later events.
type user struct {
	country     schemas.Country
	lang        schemas.Lang
	altLang     schemas.Lang
	age         schemas.AgeBand
	platform    schemas.Platform
	altPlatform schemas.Platform
	drifts      bool
	tokenLen    uint8
}

// driftProb is the chance that a drifting user's event uses the alt
// attributes.
const driftProb = 0.3

// Token shape: 22 to 32 characters of the URL-safe base64 alphabet.
const (
	minTokenLen  = 22
	maxTokenLen  = 32
	tokenChars   = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	tokenLetters = 52 // tokenChars[:52] are letters
	// maxDigitRun keeps tokens from holding anything a PII guard could take
	// for a phone number.
	maxDigitRun = 3
)

// population is the fixed set of users. Tokens live in one arena with a
// stride of maxTokenLen bytes so that a user's token is a slice, not a
// string allocation.
type population struct {
	users  []user
	tokens []byte
}

func (p *population) token(i int) []byte {
	off := i * maxTokenLen
	return p.tokens[off : off+int(p.users[i].tokenLen)]
}

func newPopulation(cfg *Config) population {
	p := population{
		users:  make([]user, cfg.Users),
		tokens: make([]byte, cfg.Users*maxTokenLen),
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, streamPopulation))
	countryTable := newAlias(zipfWeights(len(countries), cfg.CountrySkew, 0))
	profiles := make([]profileTables, len(countries))
	for i := range countries {
		profiles[i] = newProfileTables(&countries[i])
	}
	adultAges := newAlias(adultAgeWeights[:])
	tokenKey := mix64(cfg.Seed ^ streamTokens)
	for i := range p.users {
		c := countryTable.sample(rng.Uint64())
		p.users[i] = profiles[c].draw(rng, cfg, &adultAges)
		p.users[i].tokenLen = uint8(makeToken(p.tokens[i*maxTokenLen:(i+1)*maxTokenLen], tokenKey, uint64(i)))
	}
	return p
}

// profileTables are the alias tables of one country.
type profileTables struct {
	country   schemas.Country
	langs     []schemas.Lang
	langTable alias
	platforms alias
}

func newProfileTables(c *countryProfile) profileTables {
	t := profileTables{country: schemas.Country{c.code[0], c.code[1]}}
	w := make([]float64, len(c.langs))
	for i, l := range c.langs {
		t.langs = append(t.langs, schemas.Lang{l.lang[0], l.lang[1]})
		w[i] = l.share
	}
	t.langTable = newAlias(w)
	var pw [schemas.NumPlatforms]float64
	pw[schemas.PlatformIOS] = c.ios
	pw[schemas.PlatformWeb] = webShare
	pw[schemas.PlatformDesktop] = desktopShare
	pw[schemas.PlatformAndroid] = 1 - c.ios - webShare - desktopShare
	t.platforms = newAlias(pw[:])
	return t
}

func (t *profileTables) draw(rng *rand.Rand, cfg *Config, adultAges *alias) user {
	u := user{
		country:  t.country,
		lang:     t.langs[t.langTable.sample(rng.Uint64())],
		platform: schemas.Platform(t.platforms.sample(rng.Uint64())),
		age:      schemas.AgeBand(1 + adultAges.sample(rng.Uint64())),
	}
	if rng.Float64() < cfg.MinorShare {
		u.age = schemas.AgeMinor
	}
	u.drifts = rng.Float64() < cfg.DriftShare
	u.altLang, u.altPlatform = u.lang, u.platform
	if u.drifts {
		u.altLang = t.otherLang(u.lang)
		u.altPlatform = otherPlatform(u.platform, rng.Uint64())
	}
	return u
}

// otherLang is the country's next most common language, or English.
func (t *profileTables) otherLang(l schemas.Lang) schemas.Lang {
	for _, o := range t.langs {
		if o != l {
			return o
		}
	}
	if l != (schemas.Lang{'e', 'n'}) {
		return schemas.Lang{'e', 'n'}
	}
	return schemas.Lang{'e', 's'}
}

// otherPlatform: phone users drift to web or desktop, computer users to
// Android.
func otherPlatform(p schemas.Platform, r uint64) schemas.Platform {
	switch {
	case p == schemas.PlatformWeb || p == schemas.PlatformDesktop:
		return schemas.PlatformAndroid
	case r&1 == 0:
		return schemas.PlatformWeb
	default:
		return schemas.PlatformDesktop
	}
}

// makeToken writes user i's token into dst and returns its length. It
// depends only on key and i, so a user keeps its token whatever the other
// settings. The first character is a letter and digit runs are short: a
// token is never all digits nor phone-like, and the alphabet has no '@',
// '.' or '+', so it is never e-mail-like either.
func makeToken(dst []byte, key, i uint64) int {
	s := mix64(key + i*golden) // a stream of its own: users share no characters
	h := mix64(s)
	n := minTokenLen + int(h%(maxTokenLen-minTokenLen+1))
	run := 0
	for j := range n {
		if j%10 == 0 { // 10 characters of 6 bits per 64-bit hash
			s += golden
			h = mix64(s)
		}
		c := tokenChars[h&63]
		h >>= 6
		if c >= '0' && c <= '9' {
			run++
		} else {
			run = 0
		}
		if j == 0 || run > maxDigitRun {
			c = tokenChars[int(c)%tokenLetters]
			run = 0
		}
		dst[j] = c
	}
	return n
}
