// Package yamlpath checks a YAML document against the Go type it will be
// decoded into, before it is decoded, and names every mistake by the key's
// full path and its line in the file: "kafka.max_out_of_ordr (line 17):
// unknown key; did you mean max_out_of_order?". yaml.v3's own errors name
// Go types ("field x not found in type pipeline.Config"), give no key for
// a value of the wrong type, and count lines from wherever a section was
// decoded on its own; users know neither.
package yamlpath

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// A KeyError is one mistake in the file, at a key.
type KeyError struct {
	Path string // "kafka.brokers[1]"; "" for the document itself
	Line int    // in the file
	Msg  string
}

func (e *KeyError) Error() string {
	if e.Path == "" {
		return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
	}
	return fmt.Sprintf("%s (line %d): %s", e.Path, e.Line, e.Msg)
}

// Lines maps every key path of a document to its line: "kafka.brokers",
// "clickhouse.addr[0]", "cohorts.privacy.epsilon".
type Lines map[string]int

// Check walks doc against t, the type it decodes into: an unknown key, a
// repeated key or a value of the wrong type fails with a *KeyError. A
// yaml.Node field of t (a section another package decodes itself) is
// walked against sections[its path] when given, else not at all. Check
// returns the line of every key it saw, for Locate.
func Check(doc *yaml.Node, t reflect.Type, sections map[string]reflect.Type) (Lines, error) {
	w := walker{lines: Lines{}, sections: sections}
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		doc = doc.Content[0]
	}
	return w.lines, w.walk("", doc, t)
}

type walker struct {
	lines    Lines
	sections map[string]reflect.Type
}

var (
	yamlNodeType    = reflect.TypeOf(yaml.Node{})
	durationType    = reflect.TypeOf(time.Duration(0))
	unmarshalerType = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()
)

func (w walker) walk(path string, n *yaml.Node, t reflect.Type) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if path != "" {
		w.lines[path] = n.Line
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil // absent: the default
	}
	if t == yamlNodeType {
		st, ok := w.sections[path]
		if !ok {
			return nil
		}
		t = st
	}
	switch {
	case reflect.PointerTo(t).Implements(unmarshalerType):
		return decodeValue(path, n, t)
	case t.Kind() == reflect.Struct:
		return w.walkStruct(path, n, t)
	case t.Kind() == reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return &KeyError{path, n.Line, "want a list, like [a, b]"}
		}
		for i, item := range n.Content {
			if err := w.walk(fmt.Sprintf("%s[%d]", path, i), item, t.Elem()); err != nil {
				return err
			}
		}
		return nil
	}
	return decodeValue(path, n, t)
}

// walkStruct checks a mapping against the yaml tags of struct t.
func (w walker) walkStruct(path string, n *yaml.Node, t reflect.Type) error {
	if n.Kind != yaml.MappingNode {
		return &KeyError{path, n.Line, "want a mapping of keys to values"}
	}
	fields := yamlFields(t)
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		key := joinKey(path, k.Value)
		if seen[k.Value] {
			return &KeyError{key, k.Line, "repeated key"}
		}
		seen[k.Value] = true
		ft, ok := fields[k.Value]
		if !ok {
			return &KeyError{key, k.Line, unknownKeyMessage(k.Value, fields)}
		}
		if err := w.walk(key, v, ft); err != nil {
			return err
		}
		w.lines[key] = k.Line
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
		if !f.IsExported() && !f.Anonymous { // yaml.v3 reads embedded structs of unexported types too
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
		return &KeyError{path, n.Line, valueMessage(n, t, err)}
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
	return yamlMessage(err)
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
	return strings.TrimPrefix(msg, "yaml: ")
}

// unknownKeyMessage lists the keys that would have been accepted, the
// nearest first, since most unknown keys are typos.
func unknownKeyMessage(key string, fields map[string]reflect.Type) string {
	known := make([]string, 0, len(fields))
	for k := range fields {
		known = append(known, k)
	}
	sort.Strings(known)
	if near := NearestKey(key, known); near != "" {
		return fmt.Sprintf("unknown key; did you mean %s? (known here: %s)", near, strings.Join(known, ", "))
	}
	return fmt.Sprintf("unknown key (known here: %s)", strings.Join(known, ", "))
}

// NearestKey is the known key within edit distance 2 of key, if one is.
func NearestKey(key string, known []string) string {
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
