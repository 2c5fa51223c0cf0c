package archive

import (
	"bytes"
	"testing"
)

// Every format gives back the generator's events, in order, through the
// streaming decoder, and the JSON a Parquet or Arrow row becomes is the
// very line the NDJSON writer wrote for that event.
func TestArchiveRoundTrip(t *testing.T) {
	events := generate(t, 140_000, 42) // three batches of batchRows and a part
	dir := t.TempDir()
	var ndjson []record
	for _, name := range []string{"e.ndjson", "e.jsonl.gz", "e.parquet", "e.arrow", "e.arrows"} {
		t.Run(name, func(t *testing.T) {
			recs := readFile(t, writeFile(t, dir, name, events))
			if len(recs) != len(events) {
				t.Fatalf("read %d records, wrote %d events", len(recs), len(events))
			}
			for i, rec := range recs {
				if rec.row != int64(i+1) {
					t.Fatalf("record %d has row %d", i, rec.row)
				}
				got, reason := decode(rec.value)
				if reason != "" || !eventsEqual(&got, &events[i]) {
					t.Fatalf("row %d: %s decodes to %+v (rejected: %q), want %+v", rec.row, rec.value, got, reason, events[i])
				}
			}
			if ndjson == nil {
				ndjson = recs
				return
			}
			for i := range recs {
				if !bytes.Equal(recs[i].value, ndjson[i].value) {
					t.Fatalf("row %d:\n %s\nwhere NDJSON has\n %s", i+1, recs[i].value, ndjson[i].value)
				}
			}
		})
	}
}
