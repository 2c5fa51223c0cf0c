package backfill

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cohortline/cohortline/pipeline"
	"github.com/cohortline/cohortline/pipeline/archive"
)

// Request is what a backfill is asked to do: the range and settings of
// Config, and where to read it from.
type Request struct {
	Config
	Brokers []string // Kafka: the source, or asked for the partition count
	// Dialer is how to connect to Brokers (kafka.tls, kafka.sasl); nil
	// is plaintext.
	Dialer *pipeline.Dialer
	Files  []string // archives to read instead of Kafka, in production order
	// Checkpoint is the checkpoint file; "" means
	// backfill-TOPIC-FROM-TO.checkpoint.json in the current directory.
	Checkpoint string
	DryRun     bool // keep no checkpoint
	Resume     bool // continue from the checkpoint
	// Partitions is, with Files, how many partitions events are routed to;
	// 0 asks Kafka.
	Partitions int
}

// source is the checkpoint's name of the request's source.
func (r Request) source() string {
	if len(r.Files) > 0 {
		return "files"
	}
	return "kafka"
}

// ErrRefused marks an error of the request itself (a checkpoint of
// another backfill, a range streaming still has open, unreadable files):
// the command reports it as a usage error.
var ErrRefused = errors.New("backfill refused")

type refusal struct{ err error }

func (r refusal) Error() string        { return r.err.Error() }
func (r refusal) Unwrap() error        { return r.err }
func (r refusal) Is(target error) bool { return target == ErrRefused }

func refusedf(format string, args ...any) error { return refusal{fmt.Errorf(format, args...)} }

// Open loads the checkpoint to resume, or plans a new backfill: the
// offsets of each Kafka partition (PlanKafka), or the files' stamps.
func Open(ctx context.Context, req Request) (*Checkpoint, error) {
	path := req.Checkpoint
	if path == "" && !req.DryRun {
		path = fmt.Sprintf("backfill-%s-%s-%s.checkpoint.json", safeName(req.Topic), req.From.Format("20060102T1504"), req.To.Format("20060102T1504"))
	}
	if req.DryRun {
		path = ""
	}
	if req.Resume {
		cp, err := LoadCheckpoint(path)
		if err != nil {
			return nil, refusal{err}
		}
		if err := checkResume(cp.State(), req); err != nil {
			return nil, err
		}
		return cp, nil
	}
	state := CheckpointState{
		Version: Version(time.Now()), Topic: req.Topic, From: req.From, To: req.To,
		SpecHash: req.Spec.Hash(), Source: req.source(),
	}
	var err error
	if state.Source == "kafka" {
		state.Partitions, err = PlanKafka(ctx, req.Dialer, req.Brokers, req.Topic, req.Spec, req.MaxOutOfOrder, req.From, req.To)
		if err != nil {
			return nil, err
		}
	} else {
		if state.Files, err = StampFiles(req.Files); err != nil {
			return nil, refusedf("backfill: --files: %w", err)
		}
		for _, f := range req.Files {
			if _, _, err := archive.FormatOf(f); err != nil {
				return nil, refusedf("backfill: --files: %w", err)
			}
		}
		n := req.Partitions
		if n == 0 {
			if n, err = pipeline.PartitionCount(ctx, req.Dialer, req.Brokers, req.Topic); err != nil {
				return nil, refusedf("backfill: --partitions is needed: %w", err)
			}
		}
		for p := range n {
			state.Partitions = append(state.Partitions, PartitionCheckpoint{Partition: p, End: -1})
		}
	}
	cp, err := NewCheckpoint(path, state)
	if err != nil {
		return nil, refusedf("backfill: %w", err)
	}
	return cp, nil
}

// checkResume refuses a checkpoint made for another backfill.
func checkResume(s CheckpointState, req Request) error {
	var diffs []string
	if s.Topic != req.Topic {
		diffs = append(diffs, fmt.Sprintf("topic %q, not %q", s.Topic, req.Topic))
	}
	if !s.From.Equal(req.From) || !s.To.Equal(req.To) {
		diffs = append(diffs, fmt.Sprintf("range [%s, %s)", s.From.Format(time.RFC3339), s.To.Format(time.RFC3339)))
	}
	if s.SpecHash != req.Spec.Hash() {
		diffs = append(diffs, "another cohort spec (hash "+s.SpecHash+")")
	}
	source := req.source()
	if s.Source != source {
		diffs = append(diffs, "source "+s.Source)
	}
	if source == "files" {
		var paths []string
		for _, f := range s.Files {
			paths = append(paths, f.Path)
		}
		if strings.Join(paths, "\x00") != strings.Join(req.Files, "\x00") {
			diffs = append(diffs, "files "+strings.Join(paths, ", "))
		}
	}
	if len(diffs) > 0 {
		return refusedf("backfill: --resume: the checkpoint is of another backfill (%s): run that one, or remove the checkpoint to start over", strings.Join(diffs, "; "))
	}
	if source == "files" {
		if err := CheckFiles(s.Files); err != nil {
			return refusedf("backfill: %w", err)
		}
	}
	return nil
}

// safeName keeps a topic name usable in a file name.
func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == ':' {
			return '_'
		}
		return r
	}, s)
}
