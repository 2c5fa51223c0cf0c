// Command cohortline is Cohortline's single binary: the streaming daemon, the
// batch jobs (backfill, publish, migrate), the synthetic activity generator
// (gen), the event validator (validate), the targeter's view of a cohort
// (lookup) and the demo. Each subcommand has --help; README.md lists them
// with the exit codes.
//
// This package is the only place for flags, wiring, signals and os.Exit.
package main
