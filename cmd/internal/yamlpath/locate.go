package yamlpath

import "strings"

// A Prefix turns the section-relative key paths of a package's validation
// errors into paths of the file: {"cohort spec: ", "cohorts."} reads
// "cohort spec: k: 1, want at least 2" as the key cohorts.k.
type Prefix struct{ From, To string }

// Locate rewrites each line "path: reason" of a validation error whose
// path is a key of the file to "path (line N): reason", after the first
// matching prefix. Keys left to their defaults have no line, and their
// lines stay as they are. errors.Is and errors.As still see err.
func (lines Lines) Locate(err error, prefixes []Prefix) error {
	if err == nil || len(lines) == 0 {
		return err
	}
	msgs := strings.Split(err.Error(), "\n")
	changed := false
	for i, m := range msgs {
		for _, p := range prefixes {
			if rest, ok := strings.CutPrefix(m, p.From); ok {
				if key, _, ok := strings.Cut(rest, ": "); ok && lines[p.To+key] != 0 {
					m = p.To + rest
				}
				break
			}
		}
		key, reason, ok := strings.Cut(m, ": ")
		if !ok {
			continue
		}
		if line := lines[key]; line != 0 {
			msgs[i] = (&KeyError{key, line, reason}).Error()
			changed = true
		}
	}
	if !changed {
		return err
	}
	return located{strings.Join(msgs, "\n"), err}
}

type located struct {
	msg string
	err error
}

func (e located) Error() string { return e.msg }
func (e located) Unwrap() error { return e.err }
