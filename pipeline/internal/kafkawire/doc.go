// Package kafkawire is Cohortline's own Kafka Fetch client: a
// PartitionReader that fetches one partition from its leader and hands each
// message to the caller on the caller's goroutine, the Fetch request and
// response (fetch_conn.go), the record-batch decoder (record_batch.go) and
// its codecs (record_codecs.go: gzip, snappy, lz4, zstd).
//
// It exists for speed: about 0.15 CPU-µs per event against 0.43 with
// kafka-go's Reader (DESIGN.md, "Real components"), because a fetch is one
// write and one read into a buffer kept across fetches, and records are
// decoded where they lie, without an allocation per message. kafka-go
// still finds the leader and resolves offsets.
//
// It speaks what the kafka-go Dialer it is given is configured with: TLS
// and SASL (PLAIN, SCRAM) on its own connections too (fetch_dial.go), and
// stays allocation-free over TLS (BenchmarkFetchDecodeTLS).
//
// It knows nothing of events, cohorts or sinks: it imports nothing of the
// module (arch_test.go checks it). Its decoders of outside bytes are fuzzed
// (FuzzRecordBatch) and compared with kafka-go's on every codec.
package kafkawire
