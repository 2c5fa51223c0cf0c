package schemas

import (
	"bytes"
	_ "embed"
)

//go:embed event.v1.schema.json
var eventSchema []byte

// JSONSchema returns the JSON Schema (draft 2020-12) of event v1 for
// producers, a copy the caller may keep. The decoder is the reference: the
// schema accepts a few messages the decoder rejects (PII, repeated keys,
// size, 1.0 for an integer, invalid UTF-8, deep nesting), as its top-level
// description says; TestJSONSchemaAgreesWithDecoder keeps the two in line.
func JSONSchema() []byte { return bytes.Clone(eventSchema) }
