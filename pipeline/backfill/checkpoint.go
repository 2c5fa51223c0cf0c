package backfill

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/cohortline/cohortline/cohorts"

	"github.com/cohortline/cohortline/schemas"
)

// Checkpoint is a backfill's durable state: what it reads, how far each
// partition got, and the flushes it has written (invisible to readers until
// the commit). A backfill saves it each time a partition commits, the way
// streaming commits offsets, so that a backfill killed at any point resumes
// from it without double counting: each partition restarts at its low
// watermark with the watermark of its last flush (the rules on
// pipeline.Worker), and re-flushes the windows still open with the same
// rows and version.
//
// It is a JSON file written atomically (temporary file, rename). A
// Checkpoint with no path (a dry run) lives in memory only.
type Checkpoint struct {
	path string
	mu   sync.Mutex
	s    CheckpointState
}

// checkpointFormat is the version of the file's layout.
const checkpointFormat = 1

// CheckpointState is the content of a checkpoint file.
type CheckpointState struct {
	Format int `json:"format"`
	// Version is the backfill's flush version: schemas.FirstBackfillVersion
	// | its start time in ms.
	Version uint64 `json:"version"`
	// What the backfill recomputes; a resume must ask for the same.
	Topic    string    `json:"topic"`
	From     time.Time `json:"from"`
	To       time.Time `json:"to"`
	SpecHash string    `json:"spec_hash"`
	Source   string    `json:"source"` // "kafka" or "files"
	// Files are the archive files of a files backfill, in reading order.
	Files []FileStamp `json:"files,omitempty"`
	// Partitions are indexed by partition number.
	Partitions []PartitionCheckpoint `json:"partitions"`
	// Committed is set once the flushes are visible (window_progress),
	// Published once the windows are republished.
	Committed bool `json:"committed"`
	Published bool `json:"published"`
}

// FileStamp identifies an archive file, so that a resume refuses a file
// that changed, and remembers how many records it held once read through.
type FileStamp struct {
	Path    string    `json:"path"`
	Size    int64     `json:"size"`
	ModTime time.Time `json:"mod_time"`
	Records int64     `json:"records"` // -1 until read to the end
}

// PartitionCheckpoint is one partition's part of a checkpoint. Offsets are
// Kafka offsets, or for files the record's position in the whole sequence
// of files (0 for the first record of the first file).
type PartitionCheckpoint struct {
	Partition int   `json:"partition"`
	Start     int64 `json:"start"` // first offset to read
	End       int64 `json:"end"`   // read no further than this (exclusive); -1: the source's end
	// Expect is where the range's last window should close (the offset
	// for its end plus lateness and out-of-orderness): progress and ETA.
	Expect int64 `json:"expect"`
	// Offset is where a resume reads from: the first offset of the oldest
	// window still open at the last commit.
	Offset  int64           `json:"offset"`
	Done    bool            `json:"done"`
	Flushes []schemas.Flush `json:"flushes"` // durable in the sink, in flush order
}

// NewCheckpoint starts the checkpoint of a new backfill at path ("" keeps it
// in memory). It fails if path exists: an unfinished backfill is resumed or
// its file removed, never overwritten by accident.
func NewCheckpoint(path string, s CheckpointState) (*Checkpoint, error) {
	s.Format = checkpointFormat
	s.Files, s.Partitions = slices.Clone(s.Files), slices.Clone(s.Partitions) // the checkpoint's own
	for i := range s.Partitions {
		p := &s.Partitions[i]
		if p.Partition != i {
			return nil, fmt.Errorf("BUG: checkpoint partition %d at index %d", p.Partition, i)
		}
		p.Offset = p.Start
	}
	if path != "" {
		if _, err := os.Stat(path); err == nil {
			return nil, fmt.Errorf("checkpoint %s exists: an earlier backfill did not finish; continue it with --resume, or remove the file to start over", path)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("checkpoint %s: %w", path, err)
		}
	}
	c := &Checkpoint{path: path, s: s}
	return c, c.save()
}

// LoadCheckpoint reads the checkpoint of an interrupted backfill.
func LoadCheckpoint(path string) (*Checkpoint, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("--resume: no checkpoint at %s: nothing to resume", path)
	}
	if err != nil {
		return nil, fmt.Errorf("reading checkpoint: %w", err)
	}
	var s CheckpointState
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", path, err)
	}
	if s.Format != checkpointFormat {
		return nil, fmt.Errorf("checkpoint %s: format %d, this version reads %d", path, s.Format, checkpointFormat)
	}
	return &Checkpoint{path: path, s: s}, nil
}

// State returns a copy of the checkpoint's state.
func (c *Checkpoint) State() CheckpointState {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.s
	s.Files = slices.Clone(s.Files)
	s.Partitions = slices.Clone(s.Partitions)
	for i := range s.Partitions {
		s.Partitions[i].Flushes = slices.Clone(s.Partitions[i].Flushes)
	}
	return s
}

// Path is where the checkpoint is saved ("" in memory).
func (c *Checkpoint) Path() string { return c.path }

// commit records that partition's flushes are durable and that a resume
// may read it from offset, then saves.
func (c *Checkpoint) commit(partition int, offset int64, flushes []schemas.Flush, done bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := &c.s.Partitions[partition]
	p.Flushes = append(p.Flushes, flushes...)
	p.Offset = max(p.Offset, offset)
	p.Done = p.Done || done
	return c.save()
}

// fileRead records that file i held records records.
func (c *Checkpoint) fileRead(i int, records int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.s.Files[i].Records = records
}

// MarkCommitted and MarkPublished record the backfill's last two steps.
func (c *Checkpoint) MarkCommitted() error {
	return c.mark(func(s *CheckpointState) { s.Committed = true })
}
func (c *Checkpoint) MarkPublished() error {
	return c.mark(func(s *CheckpointState) { s.Published = true })
}

func (c *Checkpoint) mark(set func(*CheckpointState)) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	set(&c.s)
	return c.save()
}

// Remove deletes the checkpoint file of a finished backfill.
func (c *Checkpoint) Remove() error {
	if c.path == "" {
		return nil
	}
	if err := os.Remove(c.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing checkpoint: %w", err)
	}
	return nil
}

// save writes the state to the file atomically; the caller holds mu (or is
// the only user).
func (c *Checkpoint) save() error {
	if c.path == "" {
		return nil
	}
	data, err := json.MarshalIndent(&c.s, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding checkpoint: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(c.path), filepath.Base(c.path)+".tmp*")
	if err != nil {
		return fmt.Errorf("saving checkpoint: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename: nothing to remove
	// No fsync: a rename is atomic for readers, and a killed process
	// (SIGKILL, OOM) leaves the page cache intact. Only a machine crash can
	// lose the newest saves, and an older checkpoint is still correct: it
	// replays more, re-flushing the same rows with the same version. An
	// fsync per commit cost a third of a 5M-event backfill's wall time.
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), c.path)
	}
	if err != nil {
		return fmt.Errorf("saving checkpoint %s: %w", c.path, err)
	}
	return nil
}

// RangeFlushes returns the flushes to commit: one per window of the range
// and partition, the partition's last flush of that window, or an empty
// flush where the partition had no event in the window, so that the
// backfill replaces whatever streaming had there with nothing.
func (c *Checkpoint) RangeFlushes(spec *cohorts.Spec) []schemas.Flush {
	s := c.State()
	size := spec.Window.Milliseconds()
	var out []schemas.Flush
	for start := s.From.UnixMilli(); start < s.To.UnixMilli(); start += size {
		for _, p := range s.Partitions {
			f := schemas.Flush{
				WindowStart: start, WindowEnd: start + size, Topic: s.Topic, Partition: p.Partition,
				Version: s.Version, FirstOffset: -1, LastOffset: -1,
			}
			for _, fl := range p.Flushes {
				if fl.WindowStart == start {
					f = fl
				}
			}
			out = append(out, f)
		}
	}
	return out
}
