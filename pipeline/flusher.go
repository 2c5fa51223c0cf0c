package pipeline

import (
	"context"
	"slices"
)

// The pipelined flush.
//
// A synchronous flush stops the partition's reading for as long as the
// sink's insert takes (2.3 s per worker over the 5M-event benchmark). With
// Config.MaxInFlightFlushes above 1 (the default is 1: see
// DefaultMaxInFlightFlushes) the worker builds a closed window's
// record, drops the window's per-user state, and hands the record to its
// flusher: one goroutine per worker that writes the records one at a
// time, in the order the windows closed, and answers each with the sink's
// result. The worker reads on meanwhile, and only an acknowledged flush
// moves the commit:
//
//   - The low watermark counts the windows in flight as still open (their
//     first offsets), so no offset a window not yet durable needs is ever
//     committed; acknowledged in order, the flushes stored are always the
//     first ones handed off, and Sink.LastFlush names the last of those,
//     exactly as after a crash between two synchronous flushes.
//   - After a failed flush the flusher writes nothing more (a later window
//     stored over a missing one would make resume skip the missing one's
//     messages as late); the worker returns the error from its next call,
//     and the partition restarts from the commit, as it does today.
//   - When MaxInFlightFlushes are unacknowledged the worker waits for the
//     oldest, so reading stops and memory stays bounded: a record per
//     window in flight, the per-user state already gone.
//   - Release (the worker stops: revoke, shutdown, error) cancels the
//     flush being written, drops the queued ones and waits for the
//     flusher; nothing was committed past them, so the next owner
//     replays them. Idle and Drain wait for every flush in flight and
//     commit: a quiet partition has nothing to read meanwhile.

// inFlightFlush is a window the flusher has and has not answered yet.
type inFlightFlush struct {
	firstOffset int64 // the window's first message: the commit stays at or before it
}

// flusher writes one worker's closed windows in order. queue and acks
// hold at most maxInFlight entries, which is all the worker lets be
// unacknowledged, so neither side ever blocks on a send.
type flusher struct {
	queue  chan closedFlush
	acks   chan error // nil for a flush stored, in queue order
	cancel context.CancelFunc
	done   chan struct{} // closed when run returns
}

// startFlusher starts the worker's flusher. It writes under ctx, the
// context of the call that first hands a window off (the consumer's calls
// all carry the partition's generation), until Release cancels it.
func (w *Worker) startFlusher(ctx context.Context) *flusher {
	ctx, cancel := context.WithCancel(ctx)
	f := &flusher{
		queue: make(chan closedFlush, w.maxInFlight), acks: make(chan error, w.maxInFlight),
		cancel: cancel, done: make(chan struct{}),
	}
	go f.run(ctx, w.write)
	return f
}

// run writes what comes on the queue until it is closed. After the first
// failure, or once ctx ends, it only releases the records.
func (f *flusher) run(ctx context.Context, write func(context.Context, *closedFlush) error) {
	defer close(f.done)
	failed := false
	for c := range f.queue {
		if !failed {
			err := ctx.Err()
			if err == nil {
				err = write(ctx, &c)
			}
			failed = err != nil
			f.acks <- err
		}
		c.rec.Release()
	}
}

// handOff gives c to the flusher, then waits while maxInFlight flushes are
// unacknowledged: the back-pressure that stops reading.
func (w *Worker) handOff(ctx context.Context, c closedFlush, firstOffset int64) error {
	if w.flushErr != nil {
		c.rec.Release()
		return w.flushErr // the flusher writes nothing more
	}
	if w.flusher == nil {
		w.flusher = w.startFlusher(ctx)
	}
	w.inFlight = append(w.inFlight, inFlightFlush{firstOffset: firstOffset})
	w.flusher.queue <- c
	for len(w.inFlight) >= w.maxInFlight {
		if err := w.awaitAck(ctx); err != nil {
			return err
		}
	}
	return nil
}

// awaitAck waits for the answer to the oldest flush in flight.
func (w *Worker) awaitAck(ctx context.Context) error {
	if w.flushErr != nil {
		return w.flushErr // no answer comes after a failure
	}
	select {
	case err := <-w.flusher.acks:
		return w.acked(err)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// acked takes the answer to the oldest flush in flight. A failure stays:
// every later call returns it, and the flusher writes nothing more.
func (w *Worker) acked(err error) error {
	if err != nil {
		w.flushErr = err
		return err
	}
	w.inFlight = slices.Delete(w.inFlight, 0, 1)
	return nil
}

// Poll takes the answers the flusher has given since the last call,
// without waiting, and commits the low watermark they move. The consumer
// calls it between fetches, so that a partition whose flushes are in
// flight commits them even while no message comes; Handle calls it too.
// It returns the error of a flush that failed.
func (w *Worker) Poll(ctx context.Context) error {
	if w.flushErr != nil {
		return w.flushErr
	}
	acked := false
takeAll:
	for len(w.inFlight) > 0 {
		select {
		case err := <-w.flusher.acks:
			if err := w.acked(err); err != nil {
				return err
			}
			acked = true
		default:
			break takeAll
		}
	}
	if !acked {
		return nil
	}
	return w.commitLowWatermark(ctx)
}

// settle waits for every flush in flight, then commits.
func (w *Worker) settle(ctx context.Context) error {
	if w.flushErr != nil {
		return w.flushErr
	}
	if len(w.inFlight) == 0 {
		return nil
	}
	for len(w.inFlight) > 0 {
		if err := w.awaitAck(ctx); err != nil {
			return err
		}
	}
	return w.commitLowWatermark(ctx)
}

// stopFlusher abandons the flushes in flight: it cancels the one being
// written, lets the flusher release the rest, and waits for it to return.
func (w *Worker) stopFlusher() {
	if w.flusher == nil {
		return
	}
	w.flusher.cancel()
	close(w.flusher.queue)
	<-w.flusher.done
	w.flusher, w.inFlight = nil, nil
}
