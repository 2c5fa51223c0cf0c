package redrive

import (
	"strings"
	"testing"

	"github.com/cohortline/cohortline/schemas"
)

func TestParseReasonsMatch(t *testing.T) {
	all := []schemas.Reason{
		schemas.ReasonMalformedJSON, schemas.ReasonTooLarge, schemas.ReasonTSOutOfRange, schemas.ReasonKeyMismatch,
		schemas.BadValue("kind"), schemas.BadValue("category"), schemas.MissingField("ts"), schemas.DuplicateField("id"),
		schemas.ReasonPIISuspected,
	}
	for _, tc := range []struct {
		flags []string
		want  []schemas.Reason
	}{
		{nil, all[:8]}, // every reason with a payload
		{[]string{"bad_value:category"}, []schemas.Reason{schemas.BadValue("category")}},
		{[]string{"bad_value"}, []schemas.Reason{schemas.BadValue("kind"), schemas.BadValue("category")}},
		{[]string{"bad_value:"}, []schemas.Reason{schemas.BadValue("kind"), schemas.BadValue("category")}},
		{[]string{" ts_out_of_range", "key_mismatch", "missing_field"}, []schemas.Reason{schemas.ReasonTSOutOfRange, schemas.ReasonKeyMismatch, schemas.MissingField("ts")}},
	} {
		r, err := ParseReasons(tc.flags)
		if err != nil {
			t.Fatalf("ParseReasons(%q): %v", tc.flags, err)
		}
		var got []schemas.Reason
		for _, code := range all {
			if r.Match(code) {
				got = append(got, code)
			}
		}
		if strings.Join(codes(got), " ") != strings.Join(codes(tc.want), " ") {
			t.Errorf("ParseReasons(%q) matches %v, want %v", tc.flags, got, tc.want)
		}
	}
}

func codes(rs []schemas.Reason) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = string(r)
	}
	return out
}

func TestParseReasonsRefuses(t *testing.T) {
	for _, tc := range []struct{ flag, want string }{
		{"pii_suspected", "cannot be re-driven: its dead letters carry no key or payload"},
		{"malformed", `reason "malformed" is unknown: the reasons are too_large, malformed_json, duplicate_field:<field>, missing_field:<field>, bad_value:<field>, ts_out_of_range, key_mismatch`},
		{"bad_value:kindd", `"kindd" is not a field of event v1 (v, id, ts, user,`},
		{"malformed_json:x", "is unknown"},
		{"", "is unknown"},
	} {
		_, err := ParseReasons([]string{"key_mismatch", tc.flag})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseReasons(%q): %v, want an error saying %q", tc.flag, err, tc.want)
		}
	}
}
