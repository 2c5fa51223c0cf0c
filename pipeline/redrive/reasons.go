package redrive

import (
	"fmt"
	"slices"
	"strings"

	"github.com/cohortline/cohortline/schemas"
)

// Reasons is the set of dead-letter reasons a re-drive takes: whole codes
// (bad_value:category) and classes (bad_value, every field's). Its zero
// value takes every reason that keeps a payload, which is all but
// pii_suspected.
type Reasons struct {
	codes   []schemas.Reason // exact codes
	classes []string         // "bad_value:" and the like: every field's code
}

// ParseReasons reads --reason's values: codes as schemas.Reasons lists them
// (malformed_json, key_mismatch, bad_value:kind) or a per-field class alone
// (bad_value: all of them). None means every reason with a payload.
// pii_suspected is refused: its dead letters carry no payload, by design,
// so there is nothing to re-drive.
func ParseReasons(list []string) (Reasons, error) {
	var r Reasons
	for _, s := range list {
		s = strings.TrimSpace(s)
		switch kind, err := reasonKind(s); {
		case err != nil:
			return Reasons{}, err
		case kind == kindClass:
			r.classes = append(r.classes, strings.TrimSuffix(s, ":")+":")
		default:
			r.codes = append(r.codes, schemas.Reason(s))
		}
	}
	return r, nil
}

type reasonKindOf int

const (
	kindCode reasonKindOf = iota
	kindClass
)

// reasonKind says whether s is a whole code or a per-field class, or why
// it is neither.
func reasonKind(s string) (reasonKindOf, error) {
	if s == string(schemas.ReasonPIISuspected) {
		return 0, fmt.Errorf("reason %s cannot be re-driven: its dead letters carry no key or payload (only the position of the original message), so that a suspected phone number or e-mail address is never copied", s)
	}
	class, field, perField := strings.Cut(s, ":")
	for _, info := range schemas.Reasons() {
		code := string(info.Code)
		switch {
		case info.Code == schemas.ReasonPIISuspected:
		case !strings.HasSuffix(code, ":"):
			if s == code {
				return kindCode, nil
			}
		case class+":" == code:
			if !perField || field == "" {
				return kindClass, nil
			}
			if slices.Contains(schemas.FieldNames(), field) {
				return kindCode, nil
			}
			return 0, fmt.Errorf("reason %q: %q is not a field of event v1 (%s)", s, field, strings.Join(schemas.FieldNames(), ", "))
		}
	}
	return 0, fmt.Errorf("reason %q is unknown: the reasons are %s", s, knownReasons())
}

// knownReasons lists the codes a re-drive takes, for errors and help.
func knownReasons() string {
	var names []string
	for _, info := range schemas.Reasons() {
		if info.Code == schemas.ReasonPIISuspected {
			continue
		}
		name := string(info.Code)
		if strings.HasSuffix(name, ":") {
			name += "<field>"
		}
		names = append(names, name)
	}
	return strings.Join(names, ", ") + " (a per-field class alone, such as bad_value, takes every field's)"
}

// Match reports whether r takes a dead letter of reason code.
func (r Reasons) Match(code schemas.Reason) bool {
	if code == schemas.ReasonPIISuspected {
		return false
	}
	if len(r.codes) == 0 && len(r.classes) == 0 {
		return true
	}
	if slices.Contains(r.codes, code) {
		return true
	}
	for _, c := range r.classes {
		if strings.HasPrefix(string(code), c) {
			return true
		}
	}
	return false
}

// String lists r as --reason takes it; "every reason with a payload" for
// the zero value.
func (r Reasons) String() string {
	if len(r.codes) == 0 && len(r.classes) == 0 {
		return "every reason with a payload (all but pii_suspected)"
	}
	names := make([]string, 0, len(r.codes)+len(r.classes))
	for _, c := range r.codes {
		names = append(names, string(c))
	}
	for _, c := range r.classes {
		names = append(names, strings.TrimSuffix(c, ":"))
	}
	return strings.Join(names, ",")
}
