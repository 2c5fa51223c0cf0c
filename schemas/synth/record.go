package synth

import "github.com/cohortline/cohortline/schemas"

// RecordKind says what a record is meant to be.
type RecordKind uint8

const (
	// RecordEvent is a valid event seen for the first time.
	RecordEvent RecordKind = iota
	// RecordDuplicate re-sends a recent RecordEvent: same id, same bytes,
	// same key (a producer retry); the pipeline must count it once.
	RecordDuplicate
	// RecordBad is a record the decoder must reject with class BadClass.
	RecordBad
)

func (k RecordKind) String() string {
	switch k {
	case RecordEvent:
		return "event"
	case RecordDuplicate:
		return "duplicate"
	case RecordBad:
		return "bad"
	}
	return "invalid"
}

// Timing says where a RecordEvent's event time sits relative to the
// records emitted before it.
type Timing uint8

const (
	// InOrder: at or after every event time emitted before.
	InOrder Timing = iota
	// OutOfOrder: 1ms to Config.Jitter before the latest event time
	// emitted before.
	OutOfOrder
	// Late: Config.LateDelay to 2×LateDelay before the latest event time
	// emitted before.
	Late
)

func (t Timing) String() string {
	switch t {
	case InOrder:
		return "in_order"
	case OutOfOrder:
		return "out_of_order"
	case Late:
		return "late"
	}
	return "invalid"
}

// Record is one generated Kafka message and what the generator knows about
// it. It and every slice in it are owned by the Generator and valid only
// until the next call to Next: copy what must outlive it.
type Record struct {
	// Line is the message value: one JSON document, no trailing newline.
	Line []byte
	// Key is the message key: the user's token, for bad records too.
	Key  []byte
	Kind RecordKind
	// Timing is set for RecordEvent; a duplicate repeats an earlier event's
	// time and has Timing InOrder.
	Timing Timing
	// BadClass is set for RecordBad.
	BadClass BadClass
	// Event is the event as generated, for RecordEvent and RecordDuplicate
	// (nil for RecordBad): what a decoder must return for Line, so a test
	// can compute expected aggregates without decoding.
	Event *schemas.Event
	// User is the index of the user in the population, 0 ≤ User <
	// Config.Users.
	User int
}

// Stats counts the records generated so far.
type Stats struct {
	Records    int64 // everything emitted
	Events     int64 // RecordEvent, whatever its Timing
	Duplicates int64
	OutOfOrder int64
	Late       int64
	Bad        int64
	BadByClass [NumBadClasses]int64
}
