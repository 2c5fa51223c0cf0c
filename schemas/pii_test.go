package schemas

import (
	"math/rand/v2"
	"testing"
)

func TestLooksLikePII(t *testing.T) {
	flagged := []string{
		// e-mail
		"alice@example.com",
		"a@b.co",
		"Bob.Smith+ads@mail.example.co.uk",
		"first_last%x@sub-domain.example.org.",
		"contact me: alice@example.com, thanks",
		"<alice@example.com>",
		"5551234567@txt.example.net",
		// international numbers
		"+5511987654321",
		"+55 11 98765-4321",
		"+55 (11) 98765-4321",
		"(+55) 11 98765-4321",
		"+1 555 123 4567",
		"+1-555-123-4567",
		"+1.555.123.4567",
		"+44 20 7946 0958",
		"+1234567",         // 7 digits
		"+123456789012345", // 15 digits
		"tel: +4915112345678",
		"x=+4915112345678;",
		// national numbers
		"555-123-4567",
		"(555) 123-4567",
		"(11) 98765-4321",
		"11 98765-4321",
		"98765-4321",
		"1-800-555-1234",
		"020 7946 0958",
		"555.123.4567",
		"555 123 4567",
		"call 555-123-4567 now",
		"555-123-4567.",
		"12345-6789", // ZIP+4: flagged by design
		"(011) 4567-8901",
	}
	notFlagged := []string{
		"",
		// event-id formats
		"0190f5a2-7c3e-7b8a-9f12-3c4d5e6f7a8b",
		"550e8400-e29b-41d4-a716-446655440000",
		"12345678-1234-5678-1234-567812345678",
		"a1b2c3d4-1234-5678-9012-abcdef123456",
		"01ARZ3NDEKTSV4RRFFQ69G5FAV",
		"01HQ3K4Z5X6Y7Z8A9B0C1D2E3F",
		"1234567890123456",
		"12345678901234567890",
		"evt-9f86d081884c7d65",
		"evt-1234567890",
		"evt-555-123-4567",
		"evt_555-123-4567",
		"order.555-123-4567",
		"d41d8cd98f00b204e9800998ecf8427e",
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		"9f86d081884c7d659a2feaa0c55ad015",
		"sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		// dates, times, versions, addresses, numbers
		"2024-01-15",
		"2024-01-15T10:30:00.123Z",
		"15.01.2024",
		"15/01/2024 10:30",
		"2019-2023",
		"1000-2000",
		"10.0.19045.3803",
		"3.25.1234",
		"1.2.3",
		"v2.24.10.85",
		"Android 14; SM-S918B Build/UP1A.231005.007",
		"192.168.1.1",
		"10.0.0.254:8080",
		"2001:db8::ff00:42:8329",
		"1 234 567",
		"1,234,567.89",
		"3.14159265358979",
		"-122.4194,37.7749",
		"+12345",            // too short
		"+1234567890123456", // too long
		"a+1234567",         // glued
		"5+5551234567",      // arithmetic, glued
		"1234567",
		"555-1234",
		"978-3-16-148410-0",
		"4111 1111 1111 1111 1111",
		// e-mail look-alikes
		"@handle",
		"user@",
		"user@localhost",
		"x@1.2",
		"a@b.c",
		"@example.com",
		"name @ example.com",
		"chat @ 10:30",
		// plain text
		"render \"chat\" list",
		"message_sent",
		"Olá, tudo bem? 😀",
		"(see note)",
		"()",
		"+",
		"(",
	}
	for _, s := range flagged {
		if !LooksLikePII([]byte(s)) {
			t.Errorf("LooksLikePII(%q) = false, want true", s)
		}
	}
	for _, s := range notFlagged {
		if LooksLikePII([]byte(s)) {
			t.Errorf("LooksLikePII(%q) = true, want false", s)
		}
	}
}

func TestUserLooksLikePhone(t *testing.T) {
	for u, want := range map[string]bool{
		"5511987654321000":           true,
		"+55 11 98765-4321":          true,
		"(11) 98765-4321":            true,
		"1234-5678-9012-3456":        true,
		"1234_5678_9012_3456":        true,
		"u_8f3kQ2xLm9TzR4vWp7YbN1cD": false,
		"0123456789abcdef0123":       false,
		"----------------":           false, // no digit: well-formed, not PII
		"":                           false,
	} {
		if got := userLooksLikePhone([]byte(u)); got != want {
			t.Errorf("userLooksLikePhone(%q) = %v, want %v", u, got, want)
		}
	}
}

// TestWellFormedUserNeverPII backs the shortcut in checkUser: a well-formed
// token with a letter can match no rule of LooksLikePII.
func TestWellFormedUserNeverPII(t *testing.T) {
	const alphabet = "abcXYZ0123456789-_"
	r := rand.New(rand.NewPCG(1, 2))
	for range 200000 {
		n := MinUserLen + r.IntN(40)
		u := make([]byte, n)
		for i := range u {
			u[i] = alphabet[r.IntN(len(alphabet))]
		}
		// Mostly digits and dashes with a letter somewhere: the likeliest
		// shape to look like a phone number.
		if r.IntN(2) == 0 {
			for i := range u {
				u[i] = "0123456789-"[r.IntN(11)]
			}
			u[r.IntN(n)] = 'k'
		}
		valid, pii := checkUser(u)
		if !valid {
			continue
		}
		hasLetter := false
		for _, c := range u {
			hasLetter = hasLetter || isLetter(c)
		}
		if hasLetter && (LooksLikePII(u) || userLooksLikePhone(u) || pii) {
			t.Fatalf("well-formed user %q looks like PII", u)
		}
	}
}

func TestRawUserLooksLikePhone(t *testing.T) {
	for msg, want := range map[string]bool{
		`{"user" : "5511987654321000",,}`:  true,
		`{"user":"u_8f3kQ2xLm9TzR4vWp",,}`: false,
		`{"user":5511987654321000,,}`:      false,
		`{"user"`:                          false,
		`{"x":"user","user":"123-456",`:    true,
	} {
		if got := rawUserLooksLikePhone([]byte(msg)); got != want {
			t.Errorf("rawUserLooksLikePhone(%s) = %v, want %v", msg, got, want)
		}
	}
}
