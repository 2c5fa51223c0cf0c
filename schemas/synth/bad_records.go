package synth

import (
	"bytes"
	"strconv"

	"github.com/cohortline/cohortline/schemas"
)

// Bad records start as a valid event encoded by schemas.AppendJSON and get
// exactly one defect of their class, so the decoder has one reason to give.
// Edits work on the bytes: AppendJSON's field order is fixed and generated
// values hold no ',' '"' or '}', so a field runs from its `,"name":` to the
// next `,"` or the closing brace.

// bad emits a record the decoder must reject.
func (g *Generator) bad(base int64) {
	class := BadClass(g.badMix.sample(g.rng.Uint64()))
	g.newEvent(base)
	g.line = schemas.AppendJSON(g.line[:0], &g.ev)
	switch class {
	case BadMalformedJSON:
		g.malformed()
	case BadMissingField:
		g.removeField(requiredFields[g.rng.IntN(len(requiredFields))])
	case BadValue:
		v := &badValues[g.rng.IntN(len(badValues))]
		g.replaceValue(v.field, v.raw)
	case BadTooLarge:
		g.tooLarge()
	case BadTSOutOfRange:
		ts := outOfRangeTS[g.rng.IntN(len(outOfRangeTS))]
		g.num = strconv.AppendInt(g.num[:0], ts, 10)
		g.replaceValue("ts", g.num)
	case BadPIISuspected:
		v := &piiValues[g.rng.IntN(len(piiValues))]
		g.replaceValue(v.field, v.raw)
	}
	g.stats.Bad++
	g.stats.BadByClass[class]++
	g.rec.Kind, g.rec.BadClass, g.rec.Event = RecordBad, class, nil
	g.rec.Line, g.rec.Key = g.line, g.ev.User
}

// malformed breaks the JSON syntax: most often a cut-off record (a
// producer killed mid-write), else a trailing comma (a hand-rolled encoder).
func (g *Generator) malformed() {
	if g.rng.IntN(4) == 0 {
		n := len(g.line)
		g.line = append(g.line[:n-1], ',', '}')
		return
	}
	g.line = g.line[:1+g.rng.IntN(len(g.line)-2)] // keep at least "{", drop at least "}"
}

// tooLarge pads a valid record past schemas.MaxEventBytes with an unknown
// field, so size is its only defect.
func (g *Generator) tooLarge() {
	if g.pad == nil {
		g.pad = bytes.Repeat([]byte("x"), schemas.MaxEventBytes+1024)
	}
	n := len(g.line)
	g.line = append(g.line[:n-1], `,"pad":"`...)
	g.line = append(g.line, g.pad[:schemas.MaxEventBytes-n+g.rng.IntN(1024)]...)
	g.line = append(g.line, `"}`...)
}

// requiredFields are the fields every event must have (category is
// conditional and left out).
var requiredFields = []string{"v", "id", "ts", "user", "kind", "peer", "media", "n", "country", "lang", "age", "platform"}

type fieldValue struct {
	field string
	raw   []byte // JSON value as it goes on the wire
}

// badValues are well-formed JSON values that break one field's rule.
var badValues = []fieldValue{
	{"kind", []byte(`"video_call"`)},
	{"peer", []byte(`"stranger"`)},
	{"media", []byte(`"gif"`)},
	{"age", []byte(`"18-25"`)},
	{"platform", []byte(`"symbian"`)},
	{"n", []byte(`-1`)},
	{"n", []byte(`86401`)},
	{"country", []byte(`"br"`)},
	{"lang", []byte(`"PT"`)},
	{"id", []byte(`""`)},
	{"kind", []byte(`7`)},
}

// outOfRangeTS are event times outside the decoder's default range: a
// clock reset to 1970 plus a bit, a day before the range, and one after it.
var outOfRangeTS = []int64{86400000, schemas.DefaultMinTS - 86400000, schemas.DefaultMaxTS + 86400000}

// piiValues leak a phone number or an e-mail address into a field.
var piiValues = []fieldValue{
	{"user", []byte(`"+5511987654321"`)},
	{"user", []byte(`"maria.silva1984@example.com"`)},
	{"user", []byte(`"5511987654321000"`)},
}

// fieldSpan returns the bytes [start, end) of field name in line,
// including its leading comma (or, for the first field, its trailing one).
func fieldSpan(line []byte, name string) (start, end int, ok bool) {
	var kb [24]byte
	key := append(append(append(kb[:0], ',', '"'), name...), '"', ':')
	if i := bytes.Index(line, key); i >= 0 {
		j := i + len(key)
		if k := bytes.Index(line[j:], []byte(`,"`)); k >= 0 {
			return i, j + k, true
		}
		return i, len(line) - 1, true // last field, up to the brace
	}
	if len(line) > 0 && line[0] == '{' && bytes.HasPrefix(line[1:], key[1:]) {
		return 1, bytes.Index(line, []byte(`,"`)) + 1, true
	}
	return 0, 0, false
}

// removeField deletes field name from g.line.
func (g *Generator) removeField(name string) {
	s, e, ok := fieldSpan(g.line, name)
	if !ok {
		panic("BUG: field " + name + " not in generated record")
	}
	g.line = append(g.line[:s], g.line[e:]...)
}

// replaceValue sets the value of field name in g.line to raw. The new line
// is built in g.scratch and the buffers swap, so nothing is allocated once
// both have grown.
func (g *Generator) replaceValue(name string, raw []byte) {
	s, e, ok := fieldSpan(g.line, name)
	if !ok {
		panic("BUG: field " + name + " not in generated record")
	}
	valStart := bytes.IndexByte(g.line[s:e], ':') + s + 1
	if s == 1 { // first field: its span ends after the comma
		e--
	}
	out := append(g.scratch[:0], g.line[:valStart]...)
	out = append(out, raw...)
	out = append(out, g.line[e:]...)
	g.line, g.scratch = out, g.line
}
