package cohorts

// Outcome is what WindowState.Add did with an event, for the pipeline's
// events-by-outcome counters. Its String is a fixed metric label value.
type Outcome uint8

const (
	// Counted: the event counts everywhere (events, sums, reach,
	// histogram).
	Counted Outcome = iota
	// Duplicate: the same user already sent an event with this re-keyed
	// id in this window (counted or bounded); the copy changes nothing.
	Duplicate
	// Minor: the event is of age 13-17, or its user sent one in this
	// window: the user is left out of the whole window, and the user's
	// state keeps only the flag; the event's id is not stored.
	Minor
	// Sensitive: the event's business category is sensitive. Excluded;
	// nothing is stored, not even its id.
	Sensitive
	// Bounded: the user already had the events bound of counted events in
	// this window. The event counts for reach and for the user's activity
	// (histogram) but adds to no sum: not events, per-slot sums or call
	// seconds.
	Bounded
	// Overflow: the window already holds as many users as one window of
	// one partition can (over 200 million); the event of a new user is
	// dropped. Spread the topic over more partitions.
	Overflow
	// NumOutcomes is the number of outcomes, for arrays of counters.
	NumOutcomes = iota
)

var outcomeNames = [NumOutcomes]string{"counted", "duplicate", "minor", "sensitive", "bounded", "overflow"}

func (o Outcome) String() string {
	if int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return "invalid"
}
