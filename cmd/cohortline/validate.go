package main

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/spf13/cobra"

	"github.com/cohortline/cohortline/pipeline/archive"
	"github.com/cohortline/cohortline/schemas"
)

type validateOptions struct {
	minTS, maxTS string // time flags (timeflag.go): bounds for "ts"; empty means the contract defaults
	maxLines     int    // invalid lines to print before printing only the summary
	quiet        bool
}

func newValidateCmd() *cobra.Command {
	var opts validateOptions
	cmd := &cobra.Command{
		Use:   "validate [FILE|-]",
		Short: "Check NDJSON activity events against event contract v1",
		Long: `Validate reads newline-delimited JSON events (a file, or standard input when
FILE is "-" or absent) and checks each line against event contract v1: the
same decoder the pipeline uses. For each invalid line it prints the line
number and the reason code, then a summary by reason. Blank lines are skipped.

A suspected phone number or e-mail address is reported as pii_suspected and
is never echoed.

Kafka producers must also key every message by the event's "user" token:
the pipeline dead-letters any other key (or none) as key_mismatch. NDJSON
has no keys, so validate cannot check that rule.

Exit status: 0 when every event is valid, 1 when any is invalid or the input
cannot be read, 2 for bad flags.`,
		Example: `  cohortline gen --events 10000 --out events.ndjson && cohortline validate events.ndjson
  kafka-console-consumer ... | cohortline validate -`,
		Args: usageArgs(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := "-"
			if len(args) == 1 {
				path = args[0]
			}
			return runValidate(cmd, path, opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.minTS, "min-ts", "", "oldest accepted event time (as every time flag: 2026-11-01T10:00:00Z, 2026-11-01T10:00 UTC or 2026-11-01; default: the contract's 2010-01-01T00:00:00Z)")
	f.StringVar(&opts.maxTS, "max-ts", "", "event times at or after this are ts_out_of_range (default: the contract's 2100-01-01T00:00:00Z)")
	f.IntVar(&opts.maxLines, "max-lines", 1000, "print at most this many invalid lines, then only count them (0: no limit)")
	f.BoolVarP(&opts.quiet, "quiet", "q", false, "print only the summary")
	return cmd
}

func runValidate(cmd *cobra.Command, path string, opts validateOptions) error {
	var dec schemas.Decoder
	var err error
	if dec.MinTS, err = parseEpochMillisFlag("min-ts", opts.minTS); err != nil {
		return err
	}
	if dec.MaxTS, err = parseEpochMillisFlag("max-ts", opts.maxTS); err != nil {
		return err
	}
	in, name, closeIn, err := openInput(cmd, path)
	if err != nil {
		return err
	}
	defer closeIn()

	out := bufio.NewWriter(cmd.OutOrStdout())
	defer out.Flush()
	report := validationReport{byReason: map[schemas.Reason]int{}}
	printed := 0
	err = archive.EachLine(in, func(lineNo int, line []byte) {
		var ev schemas.Event
		decErr := dec.Decode(line, &ev)
		report.lines++
		if decErr == nil {
			return
		}
		reason, _ := schemas.ReasonOf(decErr)
		report.byReason[reason]++
		report.invalid++
		if opts.quiet || (opts.maxLines > 0 && printed >= opts.maxLines) {
			return
		}
		printed++
		fmt.Fprintf(out, "%s:%d: %s\n", name, lineNo, describeReject(decErr))
	})
	if err != nil {
		return fmt.Errorf("reading %s: %w", name, err)
	}
	report.print(out, name, printed)
	if report.invalid > 0 {
		return errFound
	}
	return nil
}

// describeReject is the reason code, then the decoder's detail when it has
// one. The decoder guarantees details never contain a suspected PII value or
// a user token; the pii_suspected case prints the code alone regardless.
func describeReject(err error) string {
	reject, ok := err.(*schemas.RejectError)
	if !ok {
		return err.Error()
	}
	if reject.Reason == schemas.ReasonPIISuspected || reject.Detail == "" {
		return string(reject.Reason)
	}
	return string(reject.Reason) + " (" + reject.Detail + ")"
}

type validationReport struct {
	lines, invalid int
	byReason       map[schemas.Reason]int
}

func (r validationReport) print(w io.Writer, name string, printed int) {
	fmt.Fprintf(w, "%s: %d events, %d valid, %d invalid\n", name, r.lines, r.lines-r.invalid, r.invalid)
	if r.invalid > printed && printed > 0 {
		fmt.Fprintf(w, "(%d invalid lines not printed; see --max-lines)\n", r.invalid-printed)
	}
	reasons := make([]schemas.Reason, 0, len(r.byReason))
	for reason := range r.byReason {
		reasons = append(reasons, reason)
	}
	slices.SortFunc(reasons, func(a, b schemas.Reason) int {
		return cmp.Or(cmp.Compare(r.byReason[b], r.byReason[a]), cmp.Compare(a, b))
	})
	for _, reason := range reasons {
		fmt.Fprintf(w, "  %-28s %d\n", reason, r.byReason[reason])
	}
}

// openInput opens path, or standard input for "-".
func openInput(cmd *cobra.Command, path string) (io.Reader, string, func(), error) {
	if path == "-" {
		return cmd.InOrStdin(), "stdin", func() {}, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, "", nil, err
	}
	return f, path, func() { f.Close() }, nil
}

// parseEpochMillisFlag parses an optional time flag value to epoch
// milliseconds; empty gives 0 (the decoder's default).
func parseEpochMillisFlag(flag, value string) (int64, error) {
	if value == "" {
		return 0, nil
	}
	t, err := parseTimeFlag("validate", "--"+flag, value)
	if err != nil {
		return 0, err
	}
	return t.UnixMilli(), nil
}
