package schemas

import (
	"strconv"
	"strings"
)

// The event cases shared by the decoder table test, the JSON Schema
// agreement test and the fuzz seed corpus.

// baseFields is a valid event, as ordered key/raw-JSON-value pairs.
var baseFields = [][2]string{
	{"v", `1`},
	{"id", `"0190f5a2-7c3e-7b8a-9f12-3c4d5e6f7a8b"`},
	{"ts", `1732400000123`},
	{"user", `"` + baseUser + `"`},
	{"kind", `"message_sent"`},
	{"peer", `"individual"`},
	{"media", `"text"`},
	{"n", `1`},
	{"country", `"BR"`},
	{"lang", `"pt"`},
	{"age", `"25-34"`},
	{"platform", `"android"`},
}

const baseUser = "u_8f3kQ2xLm9TzR4vWp7YbN1cD"

// mod changes a field list: set (or add) a field, delete one, or add raw
// members at the end.
type mod func([][2]string) [][2]string

func set(k, raw string) mod {
	return func(fs [][2]string) [][2]string {
		for i := range fs {
			if fs[i][0] == k {
				fs[i][1] = raw
				return fs
			}
		}
		return append(fs, [2]string{k, raw})
	}
}

func del(k string) mod {
	return func(fs [][2]string) [][2]string {
		out := fs[:0]
		for _, f := range fs {
			if f[0] != k {
				out = append(out, f)
			}
		}
		return out
	}
}

// rawKey adds a member whose key is written as is (escapes, duplicates).
func rawKey(key, raw string) mod {
	return func(fs [][2]string) [][2]string { return append(fs, [2]string{"\x00" + key, raw}) }
}

// ev builds an event message from baseFields and mods.
func ev(mods ...mod) string {
	fs := append([][2]string(nil), baseFields...)
	for _, m := range mods {
		fs = m(fs)
	}
	var b strings.Builder
	b.WriteByte('{')
	for i, f := range fs {
		if i > 0 {
			b.WriteByte(',')
		}
		if k, ok := strings.CutPrefix(f[0], "\x00"); ok {
			b.WriteString(k)
		} else {
			b.WriteString(strconv.Quote(f[0]))
		}
		b.WriteByte(':')
		b.WriteString(f[1])
	}
	b.WriteByte('}')
	return b.String()
}

func quote(s string) string { return `"` + s + `"` }

type eventCase struct {
	name   string
	msg    string
	reason Reason // "" for a valid event
	// decoderOnly says why the JSON Schema cannot express this rule; the
	// agreement test then expects the schema to accept the message.
	decoderOnly string
}

const (
	whyPII       = "JSON Schema has no PII heuristics"
	whyDuplicate = "JSON parsers keep one value of a repeated key"
	whySize      = "JSON Schema has no limit on message size"
	whyInteger   = "JSON Schema's integer type accepts 1.0 and 1e3"
	whyUTF8      = "the schema validator's JSON parser replaces invalid UTF-8 and lone surrogates with U+FFFD"
	whyDepth     = "JSON Schema does not limit the nesting of unknown fields"
)

// eventCases has a valid case per enum value and escape form, and an
// invalid case per reason code and field.
func eventCases() []eventCase {
	cs := []eventCase{
		{name: "base", msg: ev()},
		{name: "business peer with category", msg: ev(set("peer", `"business"`), set("category", `"grocery"`))},
		{name: "sensitive category is valid input", msg: ev(set("peer", `"business"`), set("category", `"health"`))},
		{name: "empty category when not required", msg: ev(set("category", `""`))},
		{name: "long category slug", msg: ev(set("kind", `"order_placed"`), set("category", `"professional_services"`))},
		{name: "n bounds low", msg: ev(set("n", `0`))},
		{name: "n bounds high", msg: ev(set("kind", `"call"`), set("n", `86400`))},
		{name: "ts lowest", msg: ev(set("ts", strconv.FormatInt(DefaultMinTS, 10)))},
		{name: "ts highest", msg: ev(set("ts", strconv.FormatInt(DefaultMaxTS-1, 10)))},
		{name: "id one char", msg: ev(set("id", `"x"`))},
		{name: "id 64 chars", msg: ev(set("id", quote(strings.Repeat("a", 64))))},
		{name: "id 64 runes of 3 bytes", msg: ev(set("id", quote(strings.Repeat("é€", 32))))},
		{name: "id snowflake", msg: ev(set("id", `"1234567890123456789"`))},
		{name: "id ulid", msg: ev(set("id", `"01ARZ3NDEKTSV4RRFFQ69G5FAV"`))},
		{name: "id evt-hex", msg: ev(set("id", `"evt-9f86d081884c7d65"`))},
		{name: "id with escapes", msg: ev(set("id", `"a\"b\\c\/d\b\f\n\r\t\u00e9\u20AC\ud83d\ude00"`))},
		{name: "id with raw unicode", msg: ev(set("id", `"ид-😀-ü"`))},
		{name: "user 16 chars", msg: ev(set("user", `"abcdefgh_-012345"`))},
		{name: "user 128 chars", msg: ev(set("user", quote("u"+strings.Repeat("A1_-", 31)+"bcd")))},
		{name: "user with escapes", msg: ev(set("user", `"\u0075_8f3kQ2xLm9TzR4vWp7YbN1c\u0044"`))},
		{name: "escaped enum value", msg: ev(set("kind", `"c\u0061ll"`))},
		{name: "escaped key", msg: ev(del("id"), rawKey(`"\u0069d"`, `"evt-1"`))},
		{name: "unknown fields of every type", msg: ev(
			rawKey(`"extra"`, `{"a":[1,-2.5e+3,true,false,null,"x\n\u00e9"],"b":{},"c":[]}`),
			rawKey(`"ID"`, `"not the id"`), rawKey(`"s"`, `"\ud83d\ude00"`), rawKey(`"n2"`, `-0.0E-1`))},
		{name: "duplicate unknown fields are ignored", msg: ev(rawKey(`"x"`, `1`), rawKey(`"x"`, `2`))},
		{name: "unknown nesting at the limit", msg: ev(rawKey(`"deep"`, strings.Repeat("[", maxDepth-1)+strings.Repeat("]", maxDepth-1)))},
		{name: "reverse order", msg: reverseOrder(ev())},
		{name: "whitespace everywhere", msg: " \t\r\n{ \"v\" : 1 ,\n\t\"id\"\r: \"e1\" , \"ts\":1732400000123,\"user\":\"" + baseUser +
			"\",\"kind\":\"call\",\"peer\":\"none\",\"media\":\"voice\",\"n\":  60 ,\"country\":\"US\",\"lang\":\"en\",\"age\":\"65+\",\"platform\":\"web\"\n}\n "},
		{name: "ts/n spellings", msg: ev(set("n", `0`), set("ts", `1732400000000`))},
	}
	for _, k := range kindNames {
		m := []mod{set("kind", quote(k))}
		if k == "catalog_viewed" || k == "order_placed" {
			m = append(m, set("category", `"retail_fashion"`))
		}
		cs = append(cs, eventCase{name: "kind " + k, msg: ev(m...)})
	}
	for _, p := range peerNames {
		m := []mod{set("peer", quote(p))}
		if p == "business" {
			m = append(m, set("category", `"software"`))
		}
		cs = append(cs, eventCase{name: "peer " + p, msg: ev(m...)})
	}
	for _, v := range mediaNames {
		cs = append(cs, eventCase{name: "media " + v, msg: ev(set("media", quote(v)))})
	}
	for _, v := range ageNames {
		cs = append(cs, eventCase{name: "age " + v, msg: ev(set("age", quote(v)))})
	}
	for _, v := range platformNames {
		cs = append(cs, eventCase{name: "platform " + v, msg: ev(set("platform", quote(v)))})
	}
	for _, c := range []string{"US", "DE", "AX", "ZW", "SS", "BQ"} {
		cs = append(cs, eventCase{name: "country " + c, msg: ev(set("country", quote(c)))})
	}
	for _, l := range []string{"en", "aa", "zu", "bh", "nb"} {
		cs = append(cs, eventCase{name: "lang " + l, msg: ev(set("lang", quote(l)))})
	}
	for _, f := range fieldNames {
		if f == "category" {
			continue
		}
		cs = append(cs, eventCase{name: "missing " + f, msg: ev(del(f)), reason: MissingField(f)})
	}
	for _, f := range fieldNames {
		cs = append(cs, eventCase{name: "duplicate " + f, msg: ev(set("category", `""`), rawKey(quote(f), fieldValue(f))),
			reason: DuplicateField(f), decoderOnly: whyDuplicate})
	}
	return append(cs, invalidCases()...)
}

// fieldValue is the base value of field f ("" for category).
func fieldValue(f string) string {
	for _, kv := range baseFields {
		if kv[0] == f {
			return kv[1]
		}
	}
	return `""`
}

func invalidCases() []eventCase {
	bad := func(f string) Reason { return BadValue(f) }
	deep := strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth)
	return []eventCase{
		// malformed_json
		{name: "empty", msg: ``, reason: ReasonMalformedJSON},
		{name: "blank", msg: " \n", reason: ReasonMalformedJSON},
		{name: "null", msg: `null`, reason: ReasonMalformedJSON},
		{name: "array", msg: `[` + ev() + `]`, reason: ReasonMalformedJSON},
		{name: "truncated", msg: ev()[:40], reason: ReasonMalformedJSON},
		{name: "trailing comma", msg: strings.TrimSuffix(ev(), "}") + ",}", reason: ReasonMalformedJSON},
		{name: "trailing garbage", msg: ev() + " x", reason: ReasonMalformedJSON},
		{name: "two objects", msg: ev() + ev(), reason: ReasonMalformedJSON},
		{name: "single quotes", msg: `{'v':1}`, reason: ReasonMalformedJSON},
		{name: "missing colon", msg: `{"v" 1}`, reason: ReasonMalformedJSON},
		{name: "unquoted key", msg: `{v:1}`, reason: ReasonMalformedJSON},
		{name: "leading zero", msg: ev(set("n", `01`)), reason: ReasonMalformedJSON},
		{name: "bare minus", msg: ev(set("n", `-`)), reason: ReasonMalformedJSON},
		{name: "dot without digits", msg: ev(set("n", `1.`)), reason: ReasonMalformedJSON},
		{name: "NaN", msg: ev(rawKey(`"x"`, `NaN`)), reason: ReasonMalformedJSON},
		{name: "bad literal", msg: ev(rawKey(`"x"`, `tru`)), reason: ReasonMalformedJSON},
		{name: "bad escape", msg: ev(set("id", `"a\x"`)), reason: ReasonMalformedJSON},
		{name: "short unicode escape", msg: ev(set("id", `"\u12"`)), reason: ReasonMalformedJSON},
		{name: "raw control char", msg: ev(set("id", "\"a\tb\"")), reason: ReasonMalformedJSON},
		{name: "BOM", msg: "\ufeff" + ev(), reason: ReasonMalformedJSON},
		{name: "raw NUL in key", msg: strings.Replace(ev(), `"v"`, "\"v\x00\"", 1), reason: ReasonMalformedJSON},
		{name: "raw NUL in enum value", msg: ev(set("kind", "\"call\x00\"")), reason: ReasonMalformedJSON},
		{name: "raw NUL in country", msg: ev(set("country", "\"B\x00\"")), reason: ReasonMalformedJSON},
		{name: "unknown nesting over the limit", msg: ev(rawKey(`"deep"`, deep)), reason: ReasonMalformedJSON, decoderOnly: whyDepth},
		{name: "invalid UTF-8", msg: ev(rawKey(`"x"`, "\"\xff\"")), reason: ReasonMalformedJSON, decoderOnly: whyUTF8},
		{name: "encoded surrogate", msg: ev(set("id", "\"\xed\xa0\x80\"")), reason: ReasonMalformedJSON, decoderOnly: whyUTF8},
		{name: "lone high surrogate", msg: ev(set("id", `"\ud83d"`)), reason: ReasonMalformedJSON, decoderOnly: whyUTF8},
		{name: "lone low surrogate", msg: ev(set("id", `"\ude00x"`)), reason: ReasonMalformedJSON, decoderOnly: whyUTF8},
		{name: "high surrogate then other escape", msg: ev(set("id", `"\ud83d\u0041"`)), reason: ReasonMalformedJSON, decoderOnly: whyUTF8},

		// too_large
		{name: "too large", msg: ev(rawKey(`"pad"`, quote(strings.Repeat("x", MaxEventBytes)))), reason: ReasonTooLarge, decoderOnly: whySize},

		// pii_suspected
		{name: "email in unknown field", msg: ev(rawKey(`"contact"`, `"alice@example.com"`)), reason: ReasonPIISuspected, decoderOnly: whyPII},
		{name: "email in nested unknown", msg: ev(rawKey(`"x"`, `{"a":[{"b":"mail bob.smith+ads@mail.example.co.uk now"}]}`)), reason: ReasonPIISuspected, decoderOnly: whyPII},
		{name: "email in unknown key", msg: ev(rawKey(`"alice@example.com"`, `1`)), reason: ReasonPIISuspected, decoderOnly: whyPII},
		{name: "escaped email", msg: ev(rawKey(`"x"`, `"alice\u0040example.com"`)), reason: ReasonPIISuspected, decoderOnly: whyPII},
		{name: "phone as id", msg: ev(set("id", `"+5511987654321"`)), reason: ReasonPIISuspected, decoderOnly: whyPII},
		{name: "formatted phone in unknown", msg: ev(rawKey(`"note"`, `"call (11) 98765-4321"`)), reason: ReasonPIISuspected, decoderOnly: whyPII},
		{name: "user made of digits", msg: ev(set("user", `"5511987654321000"`)), reason: ReasonPIISuspected},
		{name: "user of digits and dashes", msg: ev(set("user", `"1234-5678_9012-3456"`)), reason: ReasonPIISuspected},
		{name: "user of dashes only", msg: ev(set("user", `"----------------"`))},
		{name: "user phone with plus", msg: ev(set("user", `"+55 11 98765-4321"`)), reason: ReasonPIISuspected},
		{name: "user email", msg: ev(set("user", `"alice@example.com"`)), reason: ReasonPIISuspected},
		{name: "email as enum value", msg: ev(set("kind", `"alice@example.com"`)), reason: ReasonPIISuspected},
		{name: "phone as country", msg: ev(set("country", `"+44 20 7946 0958"`)), reason: ReasonPIISuspected},
		{name: "PII beats malformed", msg: `{"v":1,"x":"alice@example.com",}`, reason: ReasonPIISuspected},
		{name: "PII after the syntax error", msg: `{"v":1,,"x":"alice@example.com"}`, reason: ReasonPIISuspected},
		{name: "digit user after the syntax error", msg: `{"v":1,,"user":"5511987654321000"}`, reason: ReasonPIISuspected},
		{name: "PII beats duplicate", msg: ev(rawKey(`"v"`, `1`), rawKey(`"x"`, `"+1 555 123 4567"`)), reason: ReasonPIISuspected, decoderOnly: whyPII},
		{name: "PII beats too large", msg: ev(rawKey(`"pad"`, quote(strings.Repeat("x", MaxEventBytes))), rawKey(`"e"`, `"a@b.co"`)), reason: ReasonPIISuspected, decoderOnly: whyPII},
		{name: "PII in wrong-typed field", msg: ev(set("n", `["+5511987654321"]`)), reason: ReasonPIISuspected},

		// bad_value:<f>
		{name: "v 2", msg: ev(set("v", `2`)), reason: bad("v")},
		{name: "v string", msg: ev(set("v", `"1"`)), reason: bad("v")},
		{name: "v 1.0", msg: ev(set("v", `1.0`)), reason: bad("v"), decoderOnly: whyInteger},
		{name: "id empty", msg: ev(set("id", `""`)), reason: bad("id")},
		{name: "id 65 chars", msg: ev(set("id", quote(strings.Repeat("a", 65)))), reason: bad("id")},
		{name: "id 65 runes", msg: ev(set("id", quote(strings.Repeat("é", 65)))), reason: bad("id")},
		{name: "id number", msg: ev(set("id", `12345`)), reason: bad("id")},
		{name: "id null", msg: ev(set("id", `null`)), reason: bad("id")},
		{name: "ts string", msg: ev(set("ts", `"1732400000123"`)), reason: bad("ts")},
		{name: "ts fraction", msg: ev(set("ts", `1732400000123.5`)), reason: bad("ts")},
		{name: "ts exponent", msg: ev(set("ts", `1.732400000123e12`)), reason: bad("ts"), decoderOnly: whyInteger},
		{name: "ts .0", msg: ev(set("ts", `1732400000123.0`)), reason: bad("ts"), decoderOnly: whyInteger},
		{name: "user 15 chars", msg: ev(set("user", `"abcdefgh_-01234"`)), reason: bad("user")},
		{name: "user 129 chars", msg: ev(set("user", quote(strings.Repeat("a", 129)))), reason: bad("user")},
		{name: "user bad char", msg: ev(set("user", `"u_8f3kQ2xLm9TzR4vWp7Y!N1cD"`)), reason: bad("user")},
		{name: "user non-ASCII", msg: ev(set("user", `"u_8f3kQ2xLm9TzR4vWp7Yé1cD"`)), reason: bad("user")},
		{name: "user number", msg: ev(set("user", `1234567890123456`)), reason: bad("user")},
		{name: "kind unknown", msg: ev(set("kind", `"message_sent "`)), reason: bad("kind")},
		{name: "kind upper case", msg: ev(set("kind", `"CALL"`)), reason: bad("kind")},
		{name: "kind with escaped NUL", msg: ev(set("kind", `"call\u0000"`)), reason: bad("kind")},
		{name: "key with escaped NUL is unknown", msg: ev(del("v"), rawKey(`"v\u0000"`, `1`)), reason: MissingField("v")},
		{name: "kind number", msg: ev(set("kind", `1`)), reason: bad("kind")},
		{name: "peer unknown", msg: ev(set("peer", `"channel"`)), reason: bad("peer")},
		{name: "peer object", msg: ev(set("peer", `{"x":1}`)), reason: bad("peer")},
		{name: "category unknown", msg: ev(set("peer", `"business"`), set("category", `"weapons"`)), reason: bad("category")},
		{name: "category not allowed", msg: ev(set("category", `"grocery"`)), reason: bad("category")},
		{name: "category null", msg: ev(set("category", `null`)), reason: bad("category")},
		{name: "media unknown", msg: ev(set("media", `"gif"`)), reason: bad("media")},
		{name: "n negative", msg: ev(set("n", `-1`)), reason: bad("n")},
		{name: "n too big", msg: ev(set("n", `86401`)), reason: bad("n")},
		{name: "n huge", msg: ev(set("n", `123456789012345678901234567890`)), reason: bad("n")},
		{name: "n fraction", msg: ev(set("n", `1.5`)), reason: bad("n")},
		{name: "n string", msg: ev(set("n", `"1"`)), reason: bad("n")},
		{name: "n true", msg: ev(set("n", `true`)), reason: bad("n")},
		{name: "country lower case", msg: ev(set("country", `"br"`)), reason: bad("country")},
		{name: "country user-assigned", msg: ev(set("country", `"XK"`)), reason: bad("country")},
		{name: "country alpha-3", msg: ev(set("country", `"BRA"`)), reason: bad("country")},
		{name: "country reserved UK", msg: ev(set("country", `"UK"`)), reason: bad("country")},
		{name: "lang upper case", msg: ev(set("lang", `"PT"`)), reason: bad("lang")},
		{name: "lang withdrawn iw", msg: ev(set("lang", `"iw"`)), reason: bad("lang")},
		{name: "lang region tag", msg: ev(set("lang", `"pt-BR"`)), reason: bad("lang")},
		{name: "lang empty", msg: ev(set("lang", `""`)), reason: bad("lang")},
		{name: "age unknown", msg: ev(set("age", `"18-25"`)), reason: bad("age")},
		{name: "platform unknown", msg: ev(set("platform", `"symbian"`)), reason: bad("platform")},
		{name: "platform array", msg: ev(set("platform", `["ios"]`)), reason: bad("platform")},

		// missing_field:category
		{name: "category missing for business", msg: ev(set("peer", `"business"`)), reason: MissingField("category")},
		{name: "category empty for order", msg: ev(set("kind", `"order_placed"`), set("category", `""`)), reason: MissingField("category")},
		{name: "category missing for catalog", msg: ev(set("kind", `"catalog_viewed"`)), reason: MissingField("category")},

		// ts_out_of_range
		{name: "ts before 2010", msg: ev(set("ts", strconv.FormatInt(DefaultMinTS-1, 10))), reason: ReasonTSOutOfRange},
		{name: "ts in seconds", msg: ev(set("ts", `1732400000`)), reason: ReasonTSOutOfRange},
		{name: "ts 2100", msg: ev(set("ts", strconv.FormatInt(DefaultMaxTS, 10))), reason: ReasonTSOutOfRange},
		{name: "ts negative", msg: ev(set("ts", `-1`)), reason: ReasonTSOutOfRange},
		{name: "ts in nanoseconds", msg: ev(set("ts", `1732400000123000000`)), reason: ReasonTSOutOfRange},
		{name: "ts beyond int64", msg: ev(set("ts", `99999999999999999999999`)), reason: ReasonTSOutOfRange},
		{name: "ts below int64", msg: ev(set("ts", `-99999999999999999999999`)), reason: ReasonTSOutOfRange},

		// Check order: the first field in field order wins, whatever the key order.
		{name: "order: v before platform", msg: reverseOrder(ev(del("v"), set("platform", `"x"`))), reason: MissingField("v")},
		{name: "order: id before kind", msg: ev(set("kind", `"x"`), set("id", `""`)), reason: bad("id")},
		{name: "order: ts range before user", msg: reverseOrder(ev(set("ts", `1`), set("user", `"x"`))), reason: ReasonTSOutOfRange},
		{name: "order: kind before category", msg: ev(set("kind", `"x"`), set("category", `"grocery"`)), reason: bad("kind")},
		{name: "order: duplicate before bad value", msg: ev(set("v", `7`), rawKey(`"lang"`, `"pt"`)), reason: DuplicateField("lang")},
		{name: "order: malformed before duplicate", msg: ev(rawKey(`"v"`, `1`)) + "x", reason: ReasonMalformedJSON},
		{name: "order: too large before malformed", msg: "{" + strings.Repeat(" ", MaxEventBytes), reason: ReasonTooLarge},
	}
}

// reverseOrder reverses the top-level members of a flat event written by ev.
func reverseOrder(msg string) string {
	inner := strings.TrimSuffix(strings.TrimPrefix(msg, "{"), "}")
	parts := strings.Split(inner, `,"`)
	for i := 1; i < len(parts); i++ {
		parts[i] = `"` + parts[i]
	}
	for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
		parts[i], parts[j] = parts[j], parts[i]
	}
	return "{" + strings.Join(parts, ",") + "}"
}
