package archive

import (
	"io"
	"sync"
	"testing"

	"github.com/cohortline/cohortline/schemas"
)

// benchEvents are generated once for all benchmarks: 200k records.
var benchEvents struct {
	sync.Once
	events []schemas.Event
}

func eventsForBench(b *testing.B) []schemas.Event {
	benchEvents.Do(func() { benchEvents.events = generate(b, 200_000, 11) })
	return benchEvents.events
}

// benchRead reads a file of benchEvents in the named format through Open
// and the streaming decoder, as backfill does, and reports records/s.
func benchRead(b *testing.B, name string) {
	events := eventsForBench(b)
	path := writeFile(b, b.TempDir(), name, events)
	var d schemas.Decoder
	var e schemas.Event
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		r, err := Open(path)
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for {
			v, _, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			if err := d.Decode(v, &e); err != nil {
				b.Fatal(err)
			}
			n++
		}
		r.Close()
		if n != len(events) {
			b.Fatalf("read %d records, want %d", n, len(events))
		}
	}
	b.ReportMetric(float64(b.N)*float64(len(events))/b.Elapsed().Seconds(), "records/s")
}

func BenchmarkReadNDJSON(b *testing.B)     { benchRead(b, "bench.ndjson") }
func BenchmarkReadNDJSONGzip(b *testing.B) { benchRead(b, "bench.ndjson.gz") }
func BenchmarkReadParquet(b *testing.B)    { benchRead(b, "bench.parquet") }
func BenchmarkReadArrow(b *testing.B)      { benchRead(b, "bench.arrow") }
