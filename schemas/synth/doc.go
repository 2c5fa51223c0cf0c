// Package synth generates realistic synthetic activity events v1: a fixed
// population of users (country, language, age band, platform), Zipf-skewed
// activity along a diurnal curve, business traffic with taxonomy categories,
// and the faults a real topic carries (out-of-order, late and duplicate
// events, and bad records of every rejection class).
//
// Output is a pure function of the Config, Seed included: the same Config
// gives byte-identical records, so tests and benchmarks can rebuild a data
// set instead of storing it. (Across CPU architectures the distribution
// tables are built with floating point that may round differently; on one
// architecture output is identical from run to run and machine to machine.) Records are streamed one at a time from
// reused buffers (no per-record allocation); the package does no I/O beyond
// writing to an io.Writer the caller gives it.
package synth
