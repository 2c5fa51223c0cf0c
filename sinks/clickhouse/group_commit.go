package clickhouse

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/cohortline/cohortline/schemas"
)

// Group commit of flushes.
//
// ClickHouse pays a fixed price for every INSERT into a MergeTree table: a
// new part (a directory, two files per column, checksums), later merged
// away. On the 18.16 server of deploy/dev it is several milliseconds of
// server CPU, whatever the rows: the 195 flushes of the 5M-event benchmark,
// one insert each, cost the server 5 to 8 CPU-s; the same 215k rows in 8
// inserts, 1.3. Partition workers close their windows at about the same
// event time, so their flushes arrive together: a flush that arrives while
// an insert is in flight waits for it and goes in the next insert with all
// the others that arrived meanwhile, one insert of partials and then one of
// window_progress rows for the lot. A flush that finds the writer idle goes
// at once: nothing waits for a timer, and the busier ClickHouse is, the
// larger the groups.
//
// Every flush keeps its own meaning: its rows, version and progress row are
// what they would be alone, and its caller learns of its own success or
// failure. A group's insert may span days, which ClickHouse stores as one
// part per daily partition; that is harmless, since a flush's progress row
// (what makes it visible) is written only after every part of the insert.

// maxGroupRows bounds the partial rows of one insert, because a group is
// held several times over while it is written: copied (take), encoded and
// compressed by clickhouse-go, whose connections keep those buffers for the
// next insert. 32k rows of feature set v1 (92 values) are about 25 MiB of
// values, and already far past the size where ClickHouse's per-insert cost
// matters (8 inserts of 27k rows cost it 1.3 CPU-s above). A flush larger
// than this goes alone, whole.
const maxGroupRows = 1 << 15

// queuedFlush is one caller's flush waiting for the group sender.
type queuedFlush struct {
	ctx      context.Context
	cols     *partialColumns // point into the caller's record: read only under groupQueue.mu
	progress schemas.Flush
	visible  bool       // write its window_progress row (streaming); a backfill's waits for CommitBackfill
	done     chan error // buffered: the sender never waits for a caller that gave up
}

// flushGroup is what the sender writes in one go: the rows of every flush,
// copied, and the flushes to answer.
type flushGroup struct {
	cols    *partialColumns
	flushes []*queuedFlush
}

// groupQueue holds the flushes waiting for an insert. At most one sender
// goroutine runs per queue; it exists while there is work and exits when
// the queue is empty, so a Writer needs no Close.
type groupQueue struct {
	mu      sync.Mutex
	waiting []*queuedFlush
	sending bool

	inserts, flushes atomic.Int64 // partials inserts sent, flushes written: see Writer.Stats
}

// WriterStats counts a Writer's work since the Client was opened.
type WriterStats struct {
	Flushes int64 // flushes whose partials were stored
	Inserts int64 // INSERTs into cohort_partials that stored them
}

// Stats returns how many flushes the writer stored in how many inserts:
// Flushes/Inserts is the group commit's average group.
func (w *Writer) Stats() WriterStats {
	return WriterStats{Flushes: w.queue.flushes.Load(), Inserts: w.queue.inserts.Load()}
}

// write queues one flush and waits until the sender has written it (its
// partials, then its progress row if visible) or ctx ends. A caller that
// gives up before the sender took its flush withdraws it; after, the flush
// may still be written, which is harmless (writes are idempotent) and safe
// (the sender copied the rows, so the caller may release its record).
func (w *Writer) write(ctx context.Context, cols *partialColumns, p schemas.Flush, visible bool) error {
	q := &queuedFlush{ctx: ctx, cols: cols, progress: p, visible: visible, done: make(chan error, 1)}
	w.queue.mu.Lock()
	w.queue.waiting = append(w.queue.waiting, q)
	if !w.queue.sending {
		w.queue.sending = true
		go w.sendGroups()
	}
	w.queue.mu.Unlock()
	select {
	case err := <-q.done:
		return err
	case <-ctx.Done():
		w.queue.mu.Lock()
		if i := slices.Index(w.queue.waiting, q); i >= 0 {
			w.queue.waiting = slices.Delete(w.queue.waiting, i, i+1)
		}
		w.queue.mu.Unlock()
		return fmt.Errorf("writing %s: %w", p, ctx.Err())
	}
}

// sendGroups writes groups until no flush is waiting.
func (w *Writer) sendGroups() {
	for {
		w.queue.mu.Lock()
		g := w.queue.take()
		if g == nil {
			w.queue.sending = false
			w.queue.mu.Unlock()
			return
		}
		w.queue.mu.Unlock()
		w.sendGroup(g)
	}
}

// take removes the oldest waiting flushes, up to maxGroupRows rows (at
// least one flush), and copies their rows: a caller may give up, return
// and release its record while the group is still being written or
// retried. nil when nothing waits. Called with mu held.
func (q *groupQueue) take() *flushGroup {
	if len(q.waiting) == 0 {
		return nil
	}
	n, rows := 0, 0
	for n < len(q.waiting) && (n == 0 || rows+q.waiting[n].cols.rows <= maxGroupRows) {
		rows += q.waiting[n].cols.rows
		n++
	}
	g := &flushGroup{flushes: slices.Clone(q.waiting[:n])}
	q.waiting = slices.Delete(q.waiting, 0, n)
	g.cols = concatColumns(g.flushes, rows)
	return g
}

// sendGroup writes g and answers each of its flushes. The insert runs
// under a context that ends when every caller in the group has given up
// (one worker losing its partition must not fail its neighbours' flushes),
// and keeps the values of the first caller's.
func (w *Writer) sendGroup(g *flushGroup) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(g.flushes[0].ctx))
	defer cancel()
	live := atomic.Int64{}
	live.Store(int64(len(g.flushes)))
	for _, q := range g.flushes {
		stop := context.AfterFunc(q.ctx, func() {
			if live.Add(-1) == 0 {
				cancel()
			}
		})
		defer stop()
	}

	flushedAt := w.c.now()
	var partialsErr error
	if g.cols.rows > 0 {
		g.cols.setFlushedAt(flushedAt)
		partialsErr = retry(ctx, w.c.cfg.Retry, func(ctx context.Context) error { return w.sendPartials(ctx, g.cols) })
		if partialsErr == nil {
			w.queue.inserts.Add(1)
		}
	}
	var visible []schemas.Flush
	for _, q := range g.flushes {
		if q.visible {
			visible = append(visible, q.progress)
		}
	}
	var progressErr error
	if partialsErr == nil && len(visible) > 0 {
		progressErr = retry(ctx, w.c.cfg.Retry, func(ctx context.Context) error {
			return w.sendProgress(ctx, w.progressInsert, visible, flushedAt)
		})
	}

	others := ""
	if len(g.flushes) > 1 {
		others = fmt.Sprintf(" (in one insert with %d other flushes)", len(g.flushes)-1)
	}
	for _, q := range g.flushes {
		var err error
		switch {
		case partialsErr != nil:
			err = fmt.Errorf("writing partials of %s%s: %w", q.progress, others, partialsErr)
		case q.visible && progressErr != nil:
			err = fmt.Errorf("writing window_progress of %s after its partials%s: %w", q.progress, others, progressErr)
		default:
			w.queue.flushes.Add(1)
		}
		q.done <- err
	}
}

// concatColumns copies the rows of flushes, rows in all, into columns of
// their own. Topics come from each flush's schemas.Flush (check made every row
// agree with it), so only cohort keys and values need copying from the
// records.
func concatColumns(flushes []*queuedFlush, rows int) *partialColumns {
	c := &partialColumns{
		rows:         rows,
		windowStart:  make([]int64, 0, rows),
		windowEnd:    make([]int64, 0, rows),
		topic:        make([]string, 0, rows),
		cohortKey:    make([]string, 0, rows),
		partition:    make([]int32, 0, rows),
		cohortID:     make([]uint64, 0, rows),
		users:        make([]uint64, 0, rows),
		events:       make([]uint64, 0, rows),
		featureSet:   make([]uint16, 0, rows),
		values:       make([][]uint64, 0, rows),
		flushVersion: make([]uint64, 0, rows),
	}
	keyBytes, valueCount := 0, 0
	for _, q := range flushes {
		for i := range q.cols.rows {
			keyBytes += len(q.cols.cohortKey[i])
			valueCount += len(q.cols.values[i])
		}
	}
	// One allocation for every key and one for every value: the keys are
	// substrings of one string, the values sub-slices of one array.
	keys := make([]byte, 0, keyBytes)
	values := make([]uint64, 0, valueCount)
	keyEnds := make([]int, 0, rows)
	for _, q := range flushes {
		src := q.cols
		c.windowStart = append(c.windowStart, src.windowStart...)
		c.windowEnd = append(c.windowEnd, src.windowEnd...)
		c.partition = append(c.partition, src.partition...)
		c.cohortID = append(c.cohortID, src.cohortID...)
		c.users = append(c.users, src.users...)
		c.events = append(c.events, src.events...)
		c.featureSet = append(c.featureSet, src.featureSet...)
		c.flushVersion = append(c.flushVersion, src.flushVersion...)
		for i := range src.rows {
			c.topic = append(c.topic, q.progress.Topic)
			keys = append(keys, src.cohortKey[i]...)
			keyEnds = append(keyEnds, len(keys))
			start := len(values)
			values = append(values, src.values[i]...)
			c.values = append(c.values, values[start:len(values):len(values)])
		}
	}
	all, start := string(keys), 0
	for _, end := range keyEnds {
		c.cohortKey = append(c.cohortKey, all[start:end])
		start = end
	}
	return c
}
