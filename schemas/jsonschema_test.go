package schemas

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(JSONSchema()))
	if err != nil {
		t.Fatalf("parsing the schema: %v", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource("event.v1.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("event.v1.schema.json")
	if err != nil {
		t.Fatalf("compiling the schema: %v", err)
	}
	return s
}

// TestJSONSchemaAgreesWithDecoder runs every event case through a real
// JSON Schema validator and through Decode: they must agree on valid or
// invalid, except for the cases marked decoder-only, where the schema must
// accept what the decoder rejects (so the list of exceptions stays honest).
func TestJSONSchemaAgreesWithDecoder(t *testing.T) {
	schema := compileSchema(t)
	var d Decoder
	for _, c := range eventCases() {
		t.Run(c.name, func(t *testing.T) {
			var e Event
			decodeOK := d.Decode([]byte(c.msg), &e) == nil
			schemaOK := false
			var schemaErr error
			if inst, err := jsonschema.UnmarshalJSON(bytes.NewReader([]byte(c.msg))); err == nil {
				schemaErr = schema.Validate(inst)
				schemaOK = schemaErr == nil
			}
			if c.decoderOnly != "" {
				if decodeOK || !schemaOK {
					t.Fatalf("decoder-only case (%s): decoder valid=%v, schema valid=%v (%v)", c.decoderOnly, decodeOK, schemaOK, schemaErr)
				}
				return
			}
			if decodeOK != schemaOK {
				t.Fatalf("decoder valid=%v (%s), schema valid=%v (%v)\nmsg: %.300s", decodeOK, c.reason, schemaOK, schemaErr, c.msg)
			}
		})
	}
}

// TestJSONSchemaMatchesGo checks that the schema's lists and bounds are the
// Go ones, so that neither can change alone.
func TestJSONSchemaMatchesGo(t *testing.T) {
	var doc struct {
		Required   []string
		Properties map[string]struct {
			Enum                      []string
			Const                     any
			Type                      string
			Pattern                   string
			MinLength, MaxLength      *int
			Minimum, ExclusiveMaximum *int64
			Maximum                   *int64
		}
		If struct {
			AnyOf []struct {
				Properties map[string]struct {
					Const string
					Enum  []string
				}
			}
		}
	}
	if err := json.Unmarshal(JSONSchema(), &doc); err != nil {
		t.Fatal(err)
	}
	p := doc.Properties
	eq := func(name string, got, want []string) {
		t.Helper()
		if !slices.Equal(got, want) {
			t.Errorf("%s: schema has %q, Go has %q", name, got, want)
		}
	}
	eq("kind", p["kind"].Enum, kindNames[:])
	eq("peer", p["peer"].Enum, peerNames[:])
	eq("media", p["media"].Enum, mediaNames[:])
	eq("age", p["age"].Enum, ageNames[:])
	eq("platform", p["platform"].Enum, platformNames[:])
	eq("category", p["category"].Enum, append([]string{""}, categorySlugs()...))
	var countries, langs []string
	for _, c := range Countries() {
		countries = append(countries, c.String())
	}
	for _, l := range Langs() {
		langs = append(langs, l.String())
	}
	eq("country", p["country"].Enum, countries)
	eq("lang", p["lang"].Enum, langs)

	var required []string
	for _, f := range fieldNames {
		if f != "category" {
			required = append(required, f)
		}
	}
	eq("required", doc.Required, required)
	if len(p) != len(fieldNames) {
		t.Errorf("schema has %d properties, want %d", len(p), len(fieldNames))
	}
	if p["v"].Const != float64(Version) {
		t.Errorf("v const = %v", p["v"].Const)
	}
	if *p["ts"].Minimum != DefaultMinTS || *p["ts"].ExclusiveMaximum != DefaultMaxTS {
		t.Errorf("ts bounds = %d, %d", *p["ts"].Minimum, *p["ts"].ExclusiveMaximum)
	}
	if *p["n"].Maximum != MaxUnits || *p["n"].Minimum != 0 {
		t.Errorf("n bounds = %d, %d", *p["n"].Minimum, *p["n"].Maximum)
	}
	if *p["id"].MinLength != 1 || *p["id"].MaxLength != MaxIDLen {
		t.Errorf("id lengths = %d, %d", *p["id"].MinLength, *p["id"].MaxLength)
	}
	if want := "^[A-Za-z0-9_-]{16,128}$"; p["user"].Pattern != want || MinUserLen != 16 || MaxUserLen != 128 {
		t.Errorf("user pattern = %q, want %q", p["user"].Pattern, want)
	}
	// The category rule: peer business, or the kinds below.
	var needKinds []string
	for k := range Kind(NumKinds) {
		if (&Event{Kind: k, Peer: PeerNone}).NeedsCategory() {
			needKinds = append(needKinds, k.String())
		}
	}
	if anyOf := doc.If.AnyOf; len(anyOf) != 2 || anyOf[0].Properties["peer"].Const != PeerBusiness.String() ||
		!slices.Equal(anyOf[1].Properties["kind"].Enum, needKinds) {
		t.Errorf("category rule of the schema differs from Event.NeedsCategory: %+v", doc.If)
	}
}

func TestJSONSchemaIsACopy(t *testing.T) {
	a := JSONSchema()
	a[0] = 'x'
	if JSONSchema()[0] != '{' {
		t.Fatal("JSONSchema returns the embedded bytes")
	}
}
