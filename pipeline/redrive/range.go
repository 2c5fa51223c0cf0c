package redrive

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Range bounds the dead letters a re-drive reads in each chosen partition
// of the dead-letter topic: offsets [FromOffset, ToOffset) and dead letters
// written (their timestamps) in [From, To). Zero values do not bound: the
// whole of every partition.
type Range struct {
	Partitions []int // of the dead-letter topic; nil: every one
	FromOffset int64
	ToOffset   int64 // exclusive; 0: the end
	From, To   time.Time
}

// Span is what a re-drive reads of one dead-letter partition: [From, To),
// within the partition's [First, End) when the re-drive began.
type Span struct {
	Partition  int
	From, To   int64
	First, End int64
}

// Check refuses a range that cannot hold anything, before any connection.
func (r Range) Check() error {
	switch {
	case r.FromOffset < 0 || r.ToOffset < 0:
		return fmt.Errorf("offsets are 0 or more: from %d, to %d", r.FromOffset, r.ToOffset)
	case r.ToOffset > 0 && r.ToOffset <= r.FromOffset:
		return fmt.Errorf("%w: to offset %d is not after from offset %d", ErrEmptyRange, r.ToOffset, r.FromOffset)
	case !r.From.IsZero() && !r.To.IsZero() && !r.To.After(r.From):
		return fmt.Errorf("%w: to %s is not after from %s", ErrEmptyRange, r.To.Format(time.RFC3339), r.From.Format(time.RFC3339))
	}
	return nil
}

// ErrEmptyRange is returned when the range holds no dead letter.
var ErrEmptyRange = errors.New("the range holds no dead letter")

// resolve turns r into the offsets of each chosen partition, clipped to
// what the partition holds; a range that holds nothing anywhere is
// ErrEmptyRange, with what the partitions do hold.
func (r Range) resolve(ctx context.Context, offs *offsets, n int) ([]Span, error) {
	if err := r.Check(); err != nil {
		return nil, err
	}
	for _, p := range r.Partitions {
		if p < 0 || p >= n {
			return nil, fmt.Errorf("partition %d: the dead-letter topic %q has partitions 0 to %d", p, offs.topic, n-1)
		}
	}
	firsts, err := offs.firsts(ctx)
	if err != nil {
		return nil, err
	}
	ends, err := offs.ends(ctx)
	if err != nil {
		return nil, err
	}
	froms, tos := slices.Clone(firsts), slices.Clone(ends)
	if !r.From.IsZero() {
		if froms, err = offs.at(ctx, r.From, ends); err != nil {
			return nil, err
		}
	}
	if !r.To.IsZero() {
		if tos, err = offs.at(ctx, r.To, ends); err != nil {
			return nil, err
		}
	}
	parts := r.Partitions
	if parts == nil {
		parts = make([]int, n)
		for p := range parts {
			parts[p] = p
		}
	}
	var spans []Span
	empty := true
	for _, p := range slices.Compact(slices.Sorted(slices.Values(parts))) {
		s := Span{Partition: p, From: max(froms[p], r.FromOffset, firsts[p]), To: tos[p], First: firsts[p], End: ends[p]}
		if r.ToOffset > 0 {
			s.To = min(s.To, r.ToOffset)
		}
		s.To = max(s.From, min(s.To, ends[p]))
		empty = empty && s.From == s.To
		spans = append(spans, s)
	}
	if empty {
		var held []string
		for _, s := range spans {
			held = append(held, fmt.Sprintf("%d: %d-%d", s.Partition, s.First, s.End))
		}
		return nil, fmt.Errorf("%w: topic %q holds offsets (partition: first-end) %s; asked %s", ErrEmptyRange, offs.topic, strings.Join(held, ", "), r)
	}
	return spans, nil
}

// String says what r asks for, in the flags' terms.
func (r Range) String() string {
	var parts []string
	if r.FromOffset > 0 {
		parts = append(parts, fmt.Sprintf("from offset %d", r.FromOffset))
	}
	if r.ToOffset > 0 {
		parts = append(parts, fmt.Sprintf("to offset %d", r.ToOffset))
	}
	if !r.From.IsZero() {
		parts = append(parts, "written from "+r.From.UTC().Format(time.RFC3339))
	}
	if !r.To.IsZero() {
		parts = append(parts, "written before "+r.To.UTC().Format(time.RFC3339))
	}
	if len(parts) == 0 {
		return "everything"
	}
	return strings.Join(parts, ", ")
}
