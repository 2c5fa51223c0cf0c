// Package pipelinetest holds what the tests and benchmarks of pipeline/
// and its subpackages share: MemorySink, an in-memory pipeline.Sink, and
// BenchMessages, one partition's generated messages. Only tests import it
// (arch_test.go checks that no production package does).
package pipelinetest
