package schemas

import "errors"

// Reason is a stable machine-readable code saying why Decoder.Decode
// rejected an event. It is the dead-letter reason and a metric label, so
// codes are never renamed; new ones may be added.
//
// The codes, in the order the decoder checks them (the first that applies
// wins, so the same message always gets the same reason):
//
//	pii_suspected          a string anywhere in the message (known or unknown field, nested
//	                       value, object key; the raw bytes when the message is too large or
//	                       not JSON) looks like an e-mail address or a phone number, or the user
//	                       token is made of digits and separators (see LooksLikePII). Dead-lettered
//	                       without payload.
//	too_large              longer than 64 KiB (MaxEventBytes); not parsed.
//	malformed_json         not exactly one JSON object: syntax error, data after the object,
//	                       invalid UTF-8 or an unpaired \u surrogate escape in any string,
//	                       nesting deeper than 32 levels.
//	duplicate_field:<f>    a known field appears more than once (the first such field in
//	                       field order). Repeated unknown keys are ignored, like unknown keys.
//	missing_field:<f>      a required field is absent; category also when it is required (peer
//	                       business, kind catalog_viewed or order_placed) and "".
//	bad_value:<f>          field f has the wrong JSON type (null included) or breaks its rule.
//	ts_out_of_range        ts is an integer outside [Decoder.MinTS, Decoder.MaxTS), by default
//	                       [2010-01-01, 2100-01-01); reported at ts's place in field order.
//
// The field checks (the last three lines) follow the contract's field
// order — v, id, ts, user, kind, peer, category, media, n, country, lang,
// age, platform — whatever the order of the keys in the message.
type Reason string

// The whole-message reason codes. Per-field codes come from MissingField,
// BadValue and DuplicateField.
const (
	ReasonMalformedJSON Reason = "malformed_json"
	ReasonTooLarge      Reason = "too_large"
	ReasonTSOutOfRange  Reason = "ts_out_of_range"
	ReasonPIISuspected  Reason = "pii_suspected"
	// ReasonKeyMismatch is not the decoder's: the pipeline gives it to a
	// valid event whose Kafka message key is not the event's user token
	// (a null key included). Producers key the topic by the token, so that
	// one person's events are in one partition (DESIGN.md, "Why
	// per-partition state works"); such a message would count one person
	// as several, and is never counted.
	ReasonKeyMismatch Reason = "key_mismatch"
)

// Prefixes of the per-field reason codes; the field name follows.
const (
	prefixMissing   = "missing_field:"
	prefixBadValue  = "bad_value:"
	prefixDuplicate = "duplicate_field:"
)

// Per-field codes are built once so that rejecting an event does not
// allocate a string.
var missingReasons, badReasons, duplicateReasons = fieldReasons(prefixMissing), fieldReasons(prefixBadValue), fieldReasons(prefixDuplicate)

func fieldReasons(prefix string) (r [numFields]Reason) {
	for i, n := range fieldNames {
		r[i] = Reason(prefix + n)
	}
	return r
}

// MissingField returns the code "missing_field:<field>". For the fields of
// event v1 it returns a precomputed value and does not allocate.
func MissingField(field string) Reason { return fieldReason(&missingReasons, prefixMissing, field) }

// BadValue returns the code "bad_value:<field>". For the fields of event v1
// it returns a precomputed value and does not allocate.
func BadValue(field string) Reason { return fieldReason(&badReasons, prefixBadValue, field) }

// DuplicateField returns the code "duplicate_field:<field>": a known field
// appeared more than once, which makes the event ambiguous (decoders differ
// on which value wins), so it is rejected rather than guessed.
func DuplicateField(field string) Reason {
	return fieldReason(&duplicateReasons, prefixDuplicate, field)
}

func fieldReason(table *[numFields]Reason, prefix, name string) Reason {
	if f := fieldByName(name); f != noField {
		return table[f]
	}
	return Reason(prefix + name)
}

// RejectError is the error Decode returns for an invalid event. Detail is
// for people (CLI output, logs): it describes the rule that failed and never
// contains a value from the message, so it cannot leak a suspected PII value
// or the user token. Decode may return the same *RejectError for the same
// reason more than once: treat it as read-only.
type RejectError struct {
	Reason Reason
	Detail string
}

func (e *RejectError) Error() string {
	if e.Detail == "" {
		return "event rejected: " + string(e.Reason)
	}
	return "event rejected: " + string(e.Reason) + ": " + e.Detail
}

// ReasonOf returns the rejection reason carried by err (or by an error it
// wraps), and false when err is not a rejection.
func ReasonOf(err error) (Reason, bool) {
	var re *RejectError
	if errors.As(err, &re) {
		return re.Reason, true
	}
	return "", false
}

// ReasonInfo documents one reason code. Code is either a complete code or,
// when it ends in ':', a prefix to which a field name is appended.
type ReasonInfo struct {
	Code        Reason
	Description string
}

// Reasons lists every reason code and code prefix, in check order, for
// documentation and CLI help: the decoder's, then key_mismatch, which the
// pipeline checks once an event decodes.
func Reasons() []ReasonInfo {
	return []ReasonInfo{
		{ReasonPIISuspected, "a value looks like an e-mail address or phone number, or the user token is made only of digits and separators; dead-lettered without payload"},
		{ReasonTooLarge, "message longer than 64 KiB"},
		{ReasonMalformedJSON, "not exactly one JSON object: syntax error, data after the object, invalid UTF-8 or unpaired surrogate escape, nesting deeper than 32"},
		{prefixDuplicate, "a known field appears more than once"},
		{prefixMissing, "a required field is absent (category: required for peer business or kind catalog_viewed/order_placed, and empty)"},
		{prefixBadValue, "a field has the wrong JSON type or a value outside its rule"},
		{ReasonTSOutOfRange, "ts is outside the accepted range, by default 2010-01-01T00:00:00Z up to (not including) 2100-01-01T00:00:00Z; checked at ts's place among the fields"},
		{ReasonKeyMismatch, "the Kafka message key is not the event's user token (or is null); checked by the pipeline after the event decodes, on Kafka input only"},
	}
}
