package cohorts

// Outcome is what WindowState.Add did with an event, for the pipeline's
// events-by-outcome counters. Its String is a fixed metric label value.
type Outcome uint8

const (
	// Counted: the event counts everywhere (events, sums, reach,
	// histogram).
	Counted Outcome = iota
	// Duplicate: an event with the same re-keyed id was already counted
	// (or bounded) in this window; the copy changes nothing.
	Duplicate
	// Minor: the event is of age 13-17. Excluded; nothing is stored, not
	// even its id.
	Minor
	// Sensitive: the event's business category is sensitive. Excluded;
	// nothing is stored, not even its id.
	Sensitive
	// Bounded: the user already had the events bound of counted events in
	// this window. The event counts for reach and for the user's activity
	// (histogram) but adds to no sum: not events, per-slot sums or call
	// seconds.
	Bounded
	// NumOutcomes is the number of outcomes, for arrays of counters.
	NumOutcomes = iota
)

var outcomeNames = [NumOutcomes]string{"counted", "duplicate", "minor", "sensitive", "bounded"}

func (o Outcome) String() string {
	if int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return "invalid"
}
