package backfill

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"
	"golang.org/x/sync/errgroup"

	"github.com/cohortline/cohortline/schemas"
)

// RecordReader reads the records of one archive file in order: the JSON of
// one v1 event each (pipeline/archive.Reader).
type RecordReader interface {
	// Next returns the next record and its row (1-based), io.EOF after the
	// last, or an error saying where the file is broken.
	Next() (value []byte, row int64, err error)
	// Skip skips n records.
	Skip(n int64) error
	// BytesRead is how much of the file has been read, in bytes on disk.
	BytesRead() int64
	Close() error
}

// FileSource is a files backfill's input: archives of the topic's events
// in the order they were produced.
type FileSource struct {
	Files []FileStamp
	Open  func(path string) (RecordReader, error)
	// StopOnBrokenFile stops the backfill at a file that cannot be read to
	// its end (before anything is committed); otherwise the rest of that
	// file is skipped, the file listed, and the other files read.
	StopOnBrokenFile bool
	// StopOnReject stops the backfill at the first record the decoder
	// rejects; otherwise rejects are counted and listed, as streaming
	// dead-letters them.
	StopOnReject bool
}

// StampFiles stats the archive files of a new backfill.
func StampFiles(paths []string) ([]FileStamp, error) {
	out := make([]FileStamp, len(paths))
	for i, path := range paths {
		fi, err := os.Stat(path)
		if err != nil {
			return nil, err
		}
		if !fi.Mode().IsRegular() {
			return nil, fmt.Errorf("%s: not a regular file", path)
		}
		out[i] = FileStamp{Path: path, Size: fi.Size(), ModTime: fi.ModTime().UTC(), Records: -1}
	}
	return out, nil
}

// CheckFiles refuses to resume over files that changed since the
// checkpoint: their records' positions would no longer match.
func CheckFiles(stamps []FileStamp) error {
	for _, s := range stamps {
		fi, err := os.Stat(s.Path)
		if err != nil {
			return fmt.Errorf("--resume: %w", err)
		}
		if fi.Size() != s.Size || !fi.ModTime().Equal(s.ModTime) {
			return fmt.Errorf("--resume: %s changed since the checkpoint (size %d, modified %s; was %d, %s): start the backfill over without --resume",
				s.Path, fi.Size(), fi.ModTime().UTC().Format(time.RFC3339), s.Size, s.ModTime.Format(time.RFC3339))
		}
	}
	return nil
}

// fileProgress is how far one file has been read.
type fileProgress struct {
	path     string
	size     int64
	bytes    atomic.Int64
	records  atomic.Int64
	finished atomic.Bool
}

func (f *fileProgress) progress() SourceProgress {
	p := SourceProgress{
		Name: f.path, Done: f.bytes.Load(), Total: f.size, Bytes: f.bytes.Load(),
		Messages: f.records.Load(), Finished: f.finished.Load(),
	}
	if p.Finished {
		p.Done = p.Total
	}
	return p
}

// fileBatch carries records from the file reader to one partition's worker.
// Keys and values are copied into arena (the reader reuses its buffers)
// and sliced from it only when the batch is full, since appends may move
// it: ends holds each record's key end and value end until then.
type fileBatch struct {
	arena []byte
	ends  []int
	msgs  []kafka.Message
}

const fileBatchSize = 4096

// RunFiles reads the files in order and sends each record to the partition
// the topic's producers would have put it in (Java's murmur2 of the user
// token, as Kafka producers and cohortline gen do), where a partition
// worker handles it as streaming would have. With the files in the order
// the events were produced, each partition's workers see the same sequence
// as streaming did, so the partials are the same.
//
// One goroutine reads and routes; one per partition aggregates. A record's
// offset is its position in the whole sequence of files, which is what the
// checkpoint counts in.
func (b *Job) RunFiles(ctx context.Context, src FileSource) error {
	files := make([]*fileProgress, len(src.Files))
	for i, f := range src.Files {
		files[i] = &fileProgress{path: f.Path, size: f.Size}
	}
	b.files = files
	b.filesShown.Store(&files)
	g, ctx := errgroup.WithContext(ctx)
	inbox := make([]chan *fileBatch, len(b.parts))
	free := make(chan *fileBatch, 3*len(b.parts))
	for range cap(free) {
		free <- &fileBatch{msgs: make([]kafka.Message, 0, fileBatchSize)}
	}
	for i, p := range b.parts {
		if p.done.Load() {
			continue
		}
		if err := p.resume(ctx); err != nil {
			return err
		}
		inbox[i] = make(chan *fileBatch, 2)
		g.Go(func() error { return b.aggregateFiles(ctx, p, inbox[i], free) })
	}
	g.Go(func() error {
		defer func() {
			for _, ch := range inbox {
				if ch != nil {
					close(ch)
				}
			}
		}()
		return b.routeFiles(ctx, src, inbox, free)
	})
	return g.Wait()
}

// aggregateFiles is a partition's worker goroutine.
func (b *Job) aggregateFiles(ctx context.Context, p *partitionJob, in <-chan *fileBatch, free chan<- *fileBatch) error {
	defer p.w.Release()
	read := false // the range is read: drain the rest
	for batch := range in {
		for _, m := range batch.msgs {
			if read {
				break
			}
			err := p.handle(ctx, m)
			if errors.Is(err, errRangeRead) {
				read = true
			} else if err != nil {
				return err
			}
		}
		free <- batch
	}
	if ctx.Err() != nil {
		return ctx.Err() // the reader stopped early: the source is not at its end
	}
	return p.finish(ctx)
}

// routeFiles reads the files and fills each partition's batches.
func (b *Job) routeFiles(ctx context.Context, src FileSource, inbox []chan *fileBatch, free chan *fileBatch) error {
	resumeAt := int64(-1) // the smallest offset a partition still needs
	for _, p := range b.parts {
		if !p.done.Load() && (resumeAt < 0 || p.offset.Load() < resumeAt) {
			resumeAt = p.offset.Load()
		}
	}
	if resumeAt < 0 {
		return nil // every partition is done
	}
	partitions := make([]int, len(b.parts))
	from := make([]int64, len(b.parts)) // where each partition resumes
	for i, p := range b.parts {
		partitions[i], from[i] = i, p.offset.Load()
	}
	batches := make([]*fileBatch, len(b.parts))
	send := func(i int) error {
		select {
		case inbox[i] <- batches[i]:
			batches[i] = nil
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	flushBatches := func() error {
		for i, bt := range batches {
			if bt != nil {
				bt.seal()
				if err := send(i); err != nil {
					return err
				}
			}
		}
		return nil
	}
	var dec schemas.Decoder
	dec.MaxTS = b.maxTS
	var ev schemas.Event
	var seq int64 // offset of the next record
	for fi, stamp := range src.Files {
		fp := b.files[fi]
		if stamp.Records >= 0 && seq+stamp.Records <= resumeAt {
			seq += stamp.Records // read through before the interruption
			fp.finished.Store(true)
			continue
		}
		fileStart := seq
		err := b.routeFile(ctx, src, fi, &seq, resumeAt, func(value []byte, row int64, offset int64) error {
			if err := dec.Decode(value, &ev); err != nil {
				reason, _ := schemas.ReasonOf(err)
				b.rejects.unrouted.Add(1)
				b.rejects.add(reason, fmt.Sprintf("%s: row %d", stamp.Path, row))
				if src.StopOnReject {
					return fmt.Errorf("%s: row %d: rejected: %s (--on-reject stop)", stamp.Path, row, reason)
				}
				return nil
			}
			part := kafka.Murmur2Balancer{}.Balance(kafka.Message{Key: ev.User}, partitions...)
			if inbox[part] == nil || offset < from[part] {
				return nil // the partition is done, or read this far before
			}
			if batches[part] == nil {
				select {
				case batches[part] = <-free:
				case <-ctx.Done():
					return ctx.Err()
				}
				bt := batches[part]
				bt.arena, bt.ends, bt.msgs = bt.arena[:0], bt.ends[:0], bt.msgs[:0]
			}
			bt := batches[part]
			bt.arena = append(bt.arena, ev.User...)
			bt.ends = append(bt.ends, len(bt.arena))
			bt.arena = append(bt.arena, value...)
			bt.ends = append(bt.ends, len(bt.arena))
			bt.msgs = append(bt.msgs, kafka.Message{Offset: offset})
			if len(bt.msgs) == fileBatchSize {
				bt.seal()
				return send(part)
			}
			return nil
		})
		var ferr *fileError
		switch {
		case errors.Is(err, errRangeRead):
			return flushBatches() // every partition has read the range
		case errors.As(err, &ferr):
			b.rejects.addBroken(ferr.err)
			if src.StopOnBrokenFile {
				return fmt.Errorf("%w (--on-error stop: nothing was committed; --on-error continue skips the rest of a broken file)", ferr.err)
			}
			b.log.Warn("backfill: skipping the rest of a broken file", "err", ferr.err)
		case err != nil:
			return err
		}
		b.cp.fileRead(fi, seq-fileStart)
		fp.finished.Store(true)
	}
	return flushBatches()
}

// allRead reports whether every partition has read the range through.
func (b *Job) allRead() bool {
	for _, p := range b.parts {
		if !p.done.Load() && !p.rangeRead.Load() {
			return false
		}
	}
	return true
}

// seal slices each message's key and value from the arena, which no
// longer grows.
func (bt *fileBatch) seal() {
	start := 0
	for i := range bt.msgs {
		k, v := bt.ends[2*i], bt.ends[2*i+1]
		bt.msgs[i].Key, bt.msgs[i].Value = bt.arena[start:k:k], bt.arena[k:v:v]
		start = v
	}
}

// fileError marks a broken or unreadable file, which --on-error decides on.
type fileError struct{ err error }

func (e *fileError) Error() string { return e.err.Error() }

// routeFile reads one file, giving each record from resumeAt on to route
// with its offset; seq advances by every record of the file.
func (b *Job) routeFile(ctx context.Context, src FileSource, fi int, seq *int64, resumeAt int64, route func(value []byte, row, offset int64) error) error {
	stamp, fp := src.Files[fi], b.files[fi]
	r, err := src.Open(stamp.Path)
	if err != nil {
		return &fileError{err}
	}
	defer r.Close()
	if skip := resumeAt - *seq; skip > 0 {
		if err := r.Skip(skip); err != nil {
			return &fileError{fmt.Errorf("%s: skipping %d records to resume: %w", stamp.Path, skip, err)}
		}
		*seq += skip
		fp.records.Store(skip)
	}
	for n := 0; ; n++ {
		if n%1024 == 0 {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if b.allRead() {
				return errRangeRead
			}
			fp.bytes.Store(r.BytesRead())
		}
		value, row, err := r.Next()
		if err == io.EOF {
			fp.bytes.Store(r.BytesRead())
			return nil
		}
		if err != nil {
			return &fileError{err}
		}
		offset := *seq
		*seq++
		fp.records.Add(1)
		if err := route(value, row, offset); err != nil {
			return err
		}
	}
}
