package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run runs the benchmark with args and returns the exit code: 0 when every
// stage ran (whether or not the targets were met: the report says), 1 when
// a stage failed or the plot could not be written (after the report), 2
// for a bad command line. `cohortbench soak` is the soak
// (soak.go) instead.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "soak" {
		return runSoakCommand(ctx, args[1:], stdout, stderr)
	}
	opts, err := parseFlags(args, stderr)
	if code, stop := flagsFailed(err, "cohortbench", stderr); stop {
		return code
	}
	rep, err := runBench(ctx, opts, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "cohortbench: FAILED: %v\n", err)
		return 1
	}
	rep.print(stdout)
	if rep.plotErr != nil {
		fmt.Fprintf(stderr, "cohortbench: FAILED: %v\n", rep.plotErr)
		return 1
	}
	return 0
}

// flagsFailed tells a command whose flags did not parse to stop, and with
// which exit code: 0 for --help (the flag package printed it), 2 for a
// bad command line, said on stderr.
func flagsFailed(err error, command string, stderr io.Writer) (code int, stop bool) {
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0, true
	case err != nil:
		fmt.Fprintf(stderr, "%s: %v\n", command, err)
		return 2, true
	}
	return 0, false
}
