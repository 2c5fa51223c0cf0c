package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/cohortline/cohortline/cmd/internal/console"
	"github.com/cohortline/cohortline/pipeline"
	"github.com/cohortline/cohortline/pipeline/archive"
	"github.com/cohortline/cohortline/schemas"
	"github.com/cohortline/cohortline/schemas/synth"
)

// genOptions are the flags of gen that are not synth.Config fields.
type genOptions struct {
	start      string // a time flag (timeflag.go)
	badMix     string // "class=weight,…"
	out        string // file, "-" or ""
	kafka      string // broker address
	topic      string
	partitions int
	config     string           // --config: its kafka.tls and kafka.sasl secure --kafka
	dialer     *pipeline.Dialer // built of config; nil is plaintext
}

func newGenCmd() *cobra.Command {
	cfg := synth.DefaultConfig()
	opts := genOptions{
		start:      cfg.Start.Format(time.RFC3339),
		badMix:     cfg.BadMix.String(),
		partitions: 8,
	}
	cmd := &cobra.Command{
		Use:   "gen (--out FILE | --kafka ADDR --topic T) [flags]",
		Short: "Generate realistic synthetic activity events",
		Long: `Gen writes synthetic activity events v1: a fixed population of users with
country, language, age band and platform, Zipf-skewed activity along a diurnal
curve, business traffic with taxonomy categories (a few sensitive ones), and the
faults of a real topic: out-of-order, late and duplicate events and bad records
of every rejection class, each built to get that reason from the decoder.

Output depends only on the flags: the same flags and --seed give the same bytes.
--out writes NDJSON (a ".gz" name is gzipped, "-" is standard output), or a
Parquet (".parquet") or Arrow IPC (".arrow") archive of the valid events for
backfill --files (bad records have no columns to go in); --kafka
produces to --topic, keyed by user token with Java's murmur2 partitioning,
creating the topic with --partitions partitions if it is missing. Bad records
are produced too: the pipeline must dead-letter them.

Fractions other than --minor-share, --drift-share (of users) and
--business-share, --sensitive-share (of events) are shares of all records.
A summary goes to standard error.`,
		Example: `  cohortline gen --events 100000 --out events.ndjson.gz
  cohortline gen --seed 7 --bad 0.01 --bad-mix pii_suspected=1,too_large=1 --out -
  cohortline gen --kafka 127.0.0.1:19092 --topic activity --partitions 8`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runGen(cmd, cfg, opts)
		},
	}
	f := cmd.Flags()
	f.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "selects the data set: same flags and seed, same bytes")
	f.IntVar(&cfg.Users, "users", cfg.Users, "size of the user population")
	f.Int64Var(&cfg.Events, "events", cfg.Events, "records to emit, duplicates and bad records included")
	f.StringVar(&opts.start, "start", opts.start, "event time of the first record (times: 2026-11-01T10:00:00Z, 2026-11-01T10:00 UTC, 2026-11-01)")
	f.DurationVar(&cfg.Span, "span", cfg.Span, "event-time range the records cover")
	f.Float64Var(&cfg.CountrySkew, "country-skew", cfg.CountrySkew, "Zipf exponent of users over 40 countries ranked by size (0: uniform)")
	f.Float64Var(&cfg.ActivitySkew, "activity-skew", cfg.ActivitySkew, "Zipf exponent of events over users (0: all equally active)")
	f.Float64Var(&cfg.MinorShare, "minor-share", cfg.MinorShare, "share of users aged 13-17")
	f.Float64Var(&cfg.DriftShare, "drift-share", cfg.DriftShare, "share of users who sometimes switch platform and language")
	f.Float64Var(&cfg.BusinessShare, "business-share", cfg.BusinessShare, "share of events with peer=business")
	f.Float64Var(&cfg.SensitiveShare, "sensitive-share", cfg.SensitiveShare, "share of business events in a sensitive category")
	f.Float64Var(&cfg.OutOfOrder, "out-of-order", cfg.OutOfOrder, "share of records up to --jitter behind the latest event time")
	f.DurationVar(&cfg.Jitter, "jitter", cfg.Jitter, "largest displacement of out-of-order records")
	f.Float64Var(&cfg.Late, "late", cfg.Late, "share of records --late-delay to twice that behind the latest event time")
	f.DurationVar(&cfg.LateDelay, "late-delay", cfg.LateDelay, "how far behind late records are, at least")
	f.Float64Var(&cfg.Duplicates, "duplicates", cfg.Duplicates, "share of records re-sending a recent event with the same id")
	f.Float64Var(&cfg.Bad, "bad", cfg.Bad, "share of bad records, split by --bad-mix")
	f.StringVar(&opts.badMix, "bad-mix", opts.badMix, "relative weights of the rejection classes of bad records; classes not named get 0")
	f.StringVar(&opts.out, "out", "", `output file: NDJSON ("-": standard output; ".gz" suffix: gzip), .parquet or .arrow`)
	f.StringVar(&opts.kafka, "kafka", "", "Kafka broker address to produce to, instead of --out")
	f.StringVar(&opts.topic, "topic", "", "Kafka topic (with --kafka)")
	f.StringVar(&opts.config, "config", "", "YAML config file whose kafka.tls and kafka.sasl secure --kafka (nothing else of it is used)")
	f.IntVar(&opts.partitions, "partitions", opts.partitions, "partitions of the topic when gen creates it (replication factor 1)")
	return cmd
}

func runGen(cmd *cobra.Command, cfg synth.Config, opts genOptions) error {
	if err := genConfig(&cfg, opts); err != nil {
		return err
	}
	g, err := synth.New(cfg)
	if err != nil {
		return err
	}
	if opts.dialer, err = kafkaDialerOf(opts.config, os.Getenv); err != nil {
		return err
	}
	ctx := cmd.Context()
	began := time.Now()
	skipped := int64(0)
	switch {
	case opts.kafka != "":
		err = produceKafka(ctx, g, opts, nil)
	case isColumnarArchive(opts.out):
		skipped, err = writeArchive(ctx, g, opts.out)
	default:
		err = writeFile(ctx, g, opts.out, cmd.OutOrStdout())
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(cmd.ErrOrStderr(), genSummary(g.Stats(), time.Since(began)))
	if skipped > 0 {
		fmt.Fprintf(cmd.ErrOrStderr(), "gen: %d bad records not written: Parquet and Arrow hold only valid events\n", skipped)
	}
	return nil
}

// isColumnarArchive reports whether --out names a Parquet or Arrow file.
func isColumnarArchive(path string) bool {
	f, _, err := archive.FormatOf(path)
	return err == nil && f != archive.NDJSON
}

// writeArchive writes the events (duplicates included, in the generator's
// order: a files backfill depends on it) to a Parquet or Arrow file. Bad
// records have no columns to go in: they are counted, not written.
func writeArchive(ctx context.Context, g *synth.Generator, path string) (skipped int64, err error) {
	return archive.WriteAll(ctx, path, func() (*schemas.Event, bool) {
		rec, ok := g.Next()
		if !ok {
			return nil, false
		}
		return rec.Event, true
	})
}

// genConfig completes cfg from the string flags and checks the command
// line, naming the flag of any problem.
func genConfig(cfg *synth.Config, opts genOptions) error {
	start, err := parseTimeFlag("gen", "--start", opts.start)
	if err != nil {
		return err
	}
	cfg.Start = start
	if cfg.BadMix, err = synth.ParseBadMix(opts.badMix); err != nil {
		return usageErrorf("--bad-mix: %v", err)
	}
	// Validate before New: New would take a zero --events or --users for
	// "use the default".
	if err := cfg.Validate(); err != nil {
		var fe *synth.FieldError
		if errors.As(err, &fe) {
			name, _, _ := strings.Cut(fe.Field, ".") // bad_mix.too_large → bad_mix
			return usageErrorf("--%s: %s", strings.ReplaceAll(name, "_", "-"), fe.Msg)
		}
		return err
	}
	return checkSink(opts)
}

// checkSink checks the output flags: exactly one destination.
func checkSink(opts genOptions) error {
	switch {
	case opts.out == "" && opts.kafka == "":
		return usageErrorf("gen needs --out FILE (or - for standard output) or --kafka ADDR")
	case opts.out != "" && opts.kafka != "":
		return usageErrorf("--out and --kafka exclude each other")
	case opts.kafka != "" && opts.topic == "":
		return usageErrorf("--kafka needs --topic")
	case opts.kafka == "" && opts.config != "":
		return usageErrorf("--config secures --kafka: it needs --kafka")
	case opts.kafka == "" && opts.topic != "":
		return usageErrorf("--topic needs --kafka")
	case opts.partitions < 1:
		return usageErrorf("--partitions: %d must be at least 1", opts.partitions)
	}
	return nil
}

// writeFile writes NDJSON to path: "-" is stdout, a ".gz" name is gzipped.
func writeFile(ctx context.Context, g *synth.Generator, path string, stdout io.Writer) (err error) {
	var w io.Writer = bufio.NewWriterSize(stdout, 1<<20)
	if path != "-" {
		f, err := archive.CreateLines(path)
		if err != nil {
			return err
		}
		defer func() {
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}()
		w = f
	}
	if err := g.WriteNDJSON(ctx, w); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if bw, ok := w.(*bufio.Writer); ok {
		if err := bw.Flush(); err != nil {
			return fmt.Errorf("writing %s: %w", path, err)
		}
	}
	return nil
}

// produceKafka produces the generator's records to --kafka.
func produceKafka(ctx context.Context, g *synth.Generator, opts genOptions, sent *atomic.Int64) error {
	return pipeline.Produce(ctx, opts.dialer, opts.kafka, opts.topic, opts.partitions, synthRecords(g), sent)
}

// synthRecords hands out the generator's records with their event time as
// the message timestamp. A bad record has no readable time: it takes the
// previous record's.
func synthRecords(g *synth.Generator) func() (pipeline.Record, bool) {
	var last time.Time
	return func() (pipeline.Record, bool) {
		rec, ok := g.Next()
		if !ok {
			return pipeline.Record{}, false
		}
		if rec.Event != nil {
			last = time.UnixMilli(rec.Event.TS)
		}
		return pipeline.Record{Key: rec.Key, Value: rec.Line, Time: last}, true
	}
}

// genSummary is the line gen prints to stderr when done.
func genSummary(st synth.Stats, took time.Duration) string {
	return fmt.Sprintf("gen: %d events (%d bad, %d duplicates, %d late) in %.2fs: %s events/s",
		st.Records, st.Bad, st.Duplicates, st.Late, took.Seconds(), console.Rate(st.Records, took))
}
