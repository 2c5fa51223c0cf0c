package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
)

// Exit codes, documented in README.md.
const (
	exitOK      = 0
	exitFailure = 1 // the command ran and found a problem (invalid events, a failed job)
	exitUsage   = 2 // bad flags, arguments or configuration
)

// usageError marks errors the user can fix by changing the command line or
// the configuration; they exit with exitUsage.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usageErrorf(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// errFound is returned by commands that completed but must exit non-zero
// having already printed why (validate with invalid lines).
var errFound = errors.New("problems found")

// stopGrace is how long a command may take to stop after SIGINT or
// SIGTERM before the process exits without waiting any longer. Every part
// stops on its context well within it (the consumer gives its group a
// second, the HTTP server half of one); this is the guarantee for what
// cannot be interrupted, such as a server that stopped answering. Exiting
// then loses nothing: the pipeline is exactly-once under kill -9, and a
// backfill resumes from its checkpoint.
const stopGrace = 1500 * time.Millisecond

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go exitAfterGrace(ctx, stopGrace, os.Stderr)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// exitAfterGrace waits for ctx (the signal), then ends the process with
// exitFailure if it is still running grace later.
func exitAfterGrace(ctx context.Context, grace time.Duration, stderr io.Writer) {
	<-ctx.Done()
	time.Sleep(grace)
	fmt.Fprintf(stderr, "cohortline: still stopping %v after the signal; exiting without waiting (what was not committed is read again at the next start)\n", grace)
	os.Exit(exitFailure)
}

// run executes the command line args and returns the process exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRootCmd()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	var usage usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errFound):
		return exitFailure
	case errors.As(err, &usage) || isCobraUsageError(err):
		fmt.Fprintf(root.ErrOrStderr(), "cohortline: %v\nRun 'cohortline --help' for usage.\n", err)
		return exitUsage
	default:
		fmt.Fprintf(root.ErrOrStderr(), "cohortline: %v\n", err)
		return exitFailure
	}
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "cohortline",
		Short: "Privacy-preserving cohort enrichment from messaging activity",
		Long: `Cohortline reads anonymized activity events from Kafka, aggregates them per
cohort and event-time window, protects them (contribution bounding,
k-anonymity, differential privacy) and writes cohort enrichments to ClickHouse.`,
		SilenceUsage:  true, // errors are printed once, by run
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	addProfilingFlag(root)
	root.AddCommand(
		newValidateCmd(),
		newGenCmd(),
		newMigrateCmd(),
		newRunCmd(),
		newLookupCmd(),
		newPublishCmd(),
		newBackfillCmd(),
		newDemoCmd(),
		newVersionCmd(),
		newPrivacyCmd(),
		newRetentionCmd(),
		newRedriveCmd(),
	)
	return root
}

// usageArgs makes cobra's argument-count errors usage errors (exit 2).
func usageArgs(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := check(cmd, args); err != nil {
			return usageError{err}
		}
		return nil
	}
}

// isCobraUsageError recognizes the one usage error cobra builds itself and
// that no hook can wrap: an unknown subcommand.
func isCobraUsageError(err error) bool {
	return strings.HasPrefix(err.Error(), "unknown command ")
}
