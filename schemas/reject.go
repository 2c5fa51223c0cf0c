package schemas

import (
	"strconv"
	"strings"
)

// The rejections Decode returns, built once: rejecting an event allocates
// nothing except for malformed_json, whose Detail has the byte offset. No
// Detail quotes the message.
var (
	errPII = &RejectError{ReasonPIISuspected,
		"a value looks like an e-mail address or a phone number, or the user token is made only of digits and separators (value not shown)"}
	errTooLarge = &RejectError{ReasonTooLarge,
		"message longer than " + strconv.Itoa(MaxEventBytes) + " bytes"}
	errTSRange = [2]*RejectError{
		{ReasonTSOutOfRange, "ts is before the oldest accepted time (Decoder.MinTS)"},
		{ReasonTSOutOfRange, "ts is at or after the newest accepted time (Decoder.MaxTS)"},
	}
	errMissing   = rejections(&missingReasons, missingDetail)
	errBad       = rejections(&badReasons, func(f int) string { return badDetails[f] })
	errDuplicate = rejections(&duplicateReasons, func(f int) string { return fieldNames[f] + " appears more than once" })
)

func missingDetail(f int) string {
	if f == int(fieldCategory) {
		return "category is required when peer is business or kind is catalog_viewed or order_placed"
	}
	return fieldNames[f] + " is required"
}

var badDetails = [numFields]string{
	fieldV:        "v must be the integer 1",
	fieldID:       "id must be a string of 1 to 64 characters",
	fieldTS:       "ts must be an integer number of Unix epoch milliseconds",
	fieldUser:     "user must be a string of 16 to 128 characters of [A-Za-z0-9_-]",
	fieldKind:     "kind must be one of " + strings.Join(kindNames[:], ", "),
	fieldPeer:     "peer must be one of " + strings.Join(peerNames[:], ", "),
	fieldCategory: "category must be a taxonomy slug when peer is business or kind is catalog_viewed or order_placed, else empty or absent",
	fieldMedia:    "media must be one of " + strings.Join(mediaNames[:], ", "),
	fieldN:        "n must be an integer from 0 to " + strconv.Itoa(MaxUnits),
	fieldCountry:  "country must be an assigned ISO 3166-1 alpha-2 code in upper case",
	fieldLang:     "lang must be an ISO 639-1 code in lower case",
	fieldAge:      "age must be one of " + strings.Join(ageNames[:], ", "),
	fieldPlatform: "platform must be one of " + strings.Join(platformNames[:], ", "),
}

func rejections(reasons *[numFields]Reason, detail func(f int) string) (errs [numFields]*RejectError) {
	for f := range errs {
		errs[f] = &RejectError{reasons[f], detail(f)}
	}
	return errs
}
