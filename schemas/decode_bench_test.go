package schemas

import (
	"strings"
	"testing"
)

// benchEvent is a realistic event with every field (≈250 bytes), as the
// producers' SDK writes it.
const benchEvent = `{"v":1,"id":"0190f5a2-7c3e-7b8a-9f12-3c4d5e6f7a8b","ts":1732400000123,` +
	`"user":"u_8f3kQ2xLm9TzR4vWp7YbN1cD","kind":"order_placed","peer":"business",` +
	`"category":"retail_electronics","media":"text","n":1,"country":"BR","lang":"pt",` +
	`"age":"25-34","platform":"android"}`

// benchRejected fails late in field order (platform), so it costs a full parse.
const benchRejected = `{"v":1,"id":"0190f5a2-7c3e-7b8a-9f12-3c4d5e6f7a8b","ts":1732400000123,` +
	`"user":"u_8f3kQ2xLm9TzR4vWp7YbN1cD","kind":"order_placed","peer":"business",` +
	`"category":"retail_electronics","media":"text","n":1,"country":"BR","lang":"pt",` +
	`"age":"25-34","platform":"symbian"}`

// benchLarge is a valid event carrying ≈4 KiB of unknown nested fields
// (producer debug context), which must be skipped and PII-scanned.
var benchLarge = func() string {
	var b strings.Builder
	b.WriteString(`{"v":1,"id":"evt-9f86d081884c7d65","ts":1732400000123,"user":"u_8f3kQ2xLm9TzR4vWp7YbN1cD",`)
	b.WriteString(`"debug":{"sdk":{"name":"cohort-sdk","version":"3.25.1","build":1234567},"trace":[`)
	for i := range 40 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"span":"a1b2c3d4e5f60718","op":"render \"chat\" list\n","ms":12.5,"ok":true,"tags":["x","y",null]}`)
	}
	b.WriteString(`]},"kind":"message_sent","peer":"group","media":"image","n":1,"country":"DE","lang":"de","age":"35-44","platform":"ios"}`)
	return b.String()
}()

func benchmarkDecode(b *testing.B, msg string, wantErr bool) {
	in := []byte(msg)
	var d Decoder
	var e Event
	if err := d.Decode(in, &e); (err != nil) != wantErr {
		b.Fatalf("Decode: %v", err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		_ = d.Decode(in, &e)
	}
}

func BenchmarkDecode(b *testing.B)         { benchmarkDecode(b, benchEvent, false) }
func BenchmarkDecodeRejected(b *testing.B) { benchmarkDecode(b, benchRejected, true) }
func BenchmarkDecodeLarge(b *testing.B)    { benchmarkDecode(b, benchLarge, false) }

func BenchmarkLooksLikePII(b *testing.B) {
	id := []byte("0190f5a2-7c3e-7b8a-9f12-3c4d5e6f7a8b")
	b.ReportAllocs()
	b.SetBytes(int64(len(id)))
	for b.Loop() {
		LooksLikePII(id)
	}
}
