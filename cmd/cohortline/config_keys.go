package main

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/cohortline/cohortline/cohorts"
)

// A configKeyError names a key of the config file by its full path and
// the file's own line: "kafka.max_out_of_ordr (line 17): unknown key".
// yaml.v3's own errors name Go types and, for the cohorts section that is
// decoded apart, lines counted from the section; users know neither.
type configKeyError struct {
	path string
	line int
	msg  string
}

func (e *configKeyError) Error() string {
	if e.path == "" {
		return fmt.Sprintf("line %d: %s", e.line, e.msg)
	}
	return fmt.Sprintf("%s (line %d): %s", e.path, e.line, e.msg)
}

// configLines maps every key path of a config file to its line:
// "kafka.brokers", "clickhouse.addr[0]", "cohorts.privacy.epsilon".
type configLines map[string]int

// checkConfigKeys walks the YAML document against the type it decodes
// into, before it is decoded: each unknown key, repeated key or value of
// the wrong type fails with its path and line. It returns the line of
// every key, so that later validation errors can say where a key is.
func checkConfigKeys(doc *yaml.Node) (configLines, error) {
	lines := configLines{}
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		doc = doc.Content[0]
	}
	err := walkConfig(lines, "", doc, reflect.TypeOf(fileConfig{}))
	return lines, err
}

var (
	yamlNodeType    = reflect.TypeOf(yaml.Node{})
	durationType    = reflect.TypeOf(time.Duration(0))
	unmarshalerType = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()
)

// sectionTypes are the yaml.Node fields of fileConfig that another package
// decodes on its own, and the type it decodes them into.
var sectionTypes = map[string]reflect.Type{
	"cohorts": reflect.TypeOf(cohorts.Spec{}),
}

func walkConfig(lines configLines, path string, n *yaml.Node, t reflect.Type) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if path != "" {
		lines[path] = n.Line
	}
	if isNull(n) {
		return nil // absent: the default
	}
	if t == yamlNodeType {
		st, ok := sectionTypes[path]
		if !ok {
			return nil
		}
		t = st
	}
	switch {
	case reflect.PointerTo(t).Implements(unmarshalerType):
		return decodeValue(path, n, t)
	case t.Kind() == reflect.Struct:
		return walkStruct(lines, path, n, t)
	case t.Kind() == reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return &configKeyError{path, n.Line, "want a list, like [a, b]"}
		}
		for i, item := range n.Content {
			if err := walkConfig(lines, fmt.Sprintf("%s[%d]", path, i), item, t.Elem()); err != nil {
				return err
			}
		}
		return nil
	}
	return decodeValue(path, n, t)
}

// walkStruct checks a mapping against the yaml tags of struct t.
func walkStruct(lines configLines, path string, n *yaml.Node, t reflect.Type) error {
	if n.Kind != yaml.MappingNode {
		return &configKeyError{path, n.Line, "want a mapping of keys to values"}
	}
	fields := yamlFields(t)
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		key := joinKey(path, k.Value)
		if seen[k.Value] {
			return &configKeyError{key, k.Line, "repeated key"}
		}
		seen[k.Value] = true
		ft, ok := fields[k.Value]
		if !ok {
			return &configKeyError{key, k.Line, unknownKeyMessage(k.Value, fields)}
		}
		if err := walkConfig(lines, key, v, ft); err != nil {
			return err
		}
		lines[key] = k.Line
	}
	return nil
}

// yamlFields maps the YAML keys of struct t to their types, as yaml.v3
// names them: the tag's name, else the lower-cased field name; ",inline"
// fields contribute their own keys; "-" is no key.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	fields := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		switch {
		case name == "-":
			continue
		case strings.Contains(opts, "inline"):
			for k, v := range yamlFields(f.Type) {
				fields[k] = v
			}
			continue
		case name == "":
			name = strings.ToLower(f.Name)
		}
		fields[name] = f.Type
	}
	return fields
}

// decodeValue decodes one scalar (or a value with its own UnmarshalYAML)
// into a fresh t, to name the key when it does not fit.
func decodeValue(path string, n *yaml.Node, t reflect.Type) error {
	if err := n.Decode(reflect.New(t).Interface()); err != nil {
		return &configKeyError{path, n.Line, valueMessage(n, t, err)}
	}
	return nil
}

// valueMessage says what a value of type t looks like, in the words of the
// config file rather than of Go.
func valueMessage(n *yaml.Node, t reflect.Type, err error) string {
	if n.Kind != yaml.ScalarNode && t.Kind() != reflect.Map {
		return "want a single value, not a list or mapping"
	}
	got := fmt.Sprintf("%q", n.Value)
	switch {
	case t == durationType:
		return fmt.Sprintf("%s is not a duration: write it with a unit, like 5m, 90s or 1h", got)
	case t.Kind() == reflect.Bool:
		return fmt.Sprintf("%s is not true or false", got)
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
		return fmt.Sprintf("%s is not a whole number", got)
	case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
		return fmt.Sprintf("%s is not a number", got)
	}
	return strings.TrimPrefix(yamlMessage(err), "yaml: ")
}

// yamlMessage flattens yaml.v3's "yaml: unmarshal errors:\n  line 9: …"
// and drops the line, which the caller states with the key.
func yamlMessage(err error) string {
	var te *yaml.TypeError
	msg := err.Error()
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	if _, rest, ok := strings.Cut(msg, ": "); ok && strings.HasPrefix(msg, "line ") {
		msg = rest
	}
	return msg
}

// unknownKeyMessage lists the keys that would have been accepted, the
// nearest first, since most unknown keys are typos.
func unknownKeyMessage(key string, fields map[string]reflect.Type) string {
	known := make([]string, 0, len(fields))
	for k := range fields {
		known = append(known, k)
	}
	sort.Strings(known)
	if near := nearestKey(key, known); near != "" {
		return fmt.Sprintf("unknown key; did you mean %s? (known here: %s)", near, strings.Join(known, ", "))
	}
	return fmt.Sprintf("unknown key (known here: %s)", strings.Join(known, ", "))
}

// nearestKey is the known key within edit distance 2 of key, if one is.
func nearestKey(key string, known []string) string {
	best, bestD := "", 3
	for _, k := range known {
		if d := editDistance(key, k); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func joinKey(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// sectionPrefixes turn the section-relative key paths of the packages'
// Validate errors into paths of the file: cohorts.Spec says "cohort spec:
// k: …" for cohorts.k.
var sectionPrefixes = []struct{ from, to string }{
	{"cohorts: cohort spec: ", "cohorts."},
	{"cohort spec: ", "cohorts."},
	{"clickhouse: ", "clickhouse."},
	{"cohorts: privacy: ", "cohorts.privacy."},
}

// locate rewrites each line "path: reason" of a validation error whose
// path is a key of the file to "path (line N): reason". Keys left to
// their defaults have no line and stay as they are.
func (lines configLines) locate(err error) error {
	if err == nil || len(lines) == 0 {
		return err
	}
	msgs := strings.Split(err.Error(), "\n")
	changed := false
	for i, m := range msgs {
		for _, p := range sectionPrefixes {
			if rest, ok := strings.CutPrefix(m, p.from); ok {
				if key, _, ok := strings.Cut(rest, ": "); ok && lines[p.to+strings.ReplaceAll(key, " ", "")] != 0 {
					m = p.to + rest
				}
				break
			}
		}
		key, reason, ok := strings.Cut(m, ": ")
		if !ok {
			continue
		}
		if line := lines[key]; line != 0 {
			msgs[i] = (&configKeyError{key, line, reason}).Error()
			changed = true
		}
	}
	if !changed {
		return err
	}
	return locatedError{strings.Join(msgs, "\n"), err}
}

// locatedError keeps the original error for errors.Is and errors.As.
type locatedError struct {
	msg string
	err error
}

func (e locatedError) Error() string { return e.msg }
func (e locatedError) Unwrap() error { return e.err }
