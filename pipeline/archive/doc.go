// Package archive reads and writes activity events v1 kept in files:
// NDJSON (optionally gzipped), Parquet and Arrow IPC. It is what
// `cohortline backfill --files` reads and what `cohortline gen --out` writes.
//
// A Reader does not validate: it turns every record into the JSON of one
// event, which the caller gives to schemas.Decoder.Decode, the decoder the
// streaming pipeline uses. So an archived event is accepted or rejected, with
// the same reason, exactly as the same event arriving from Kafka.
//
// Columnar files (Parquet, Arrow IPC) are matched to the contract by column
// name: a column named like a v1 field (v, id, ts, user, kind, peer,
// category, media, n, country, lang, age, platform) becomes that field;
// other columns are ignored, as the contract ignores unknown fields. A
// missing column or a null value leaves the field out of the JSON, so the
// decoder reports missing_field:<f> as for a producer that omitted it.
// Accepted column types:
//
//	string fields (id, user, kind, …)  utf8, large_utf8, binary, large_binary,
//	                                   or a dictionary of one of them
//	v, n                               int8 … int64, uint8 … uint64
//	ts                                 any of those integers (Unix epoch ms), or
//	                                   timestamp[s|ms|us|ns] (converted to epoch ms,
//	                                   rounded down; the time zone is not consulted,
//	                                   Arrow timestamps count from the UTC epoch)
//
// Any other type under a field's name fails the whole file (FileError at
// row 0), because a column of floats or lists under "ts" is a broken
// export, not a batch of bad events. Strings are escaped by
// schemas.AppendJSONString, so a row and the same event written by
// schemas.AppendJSON give identical JSON. Files written by this package use
// EventSchema.
//
// The package reads one record batch at a time (Parquet: at most
// 64Ki rows per batch, column chunks through a bounded buffer), never a whole
// file.
//
// Broken files give a *FileError, not a panic: a truncated file is caught
// at Open (Parquet and Arrow files lose their footer) or at the row where it
// breaks (NDJSON, gzip, Arrow streams, which must end with their
// end-of-stream marker). Corrupt bytes that make the libraries panic are
// recovered, no buffer over 1 GiB is allocated on the word of a length read
// from the file, and Arrow schemas are checked before arrow/go, which does
// not verify its metadata, sizes slices by them (arrow_schema_check.go).
package archive
