package redrive

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/cohortline/cohortline/schemas"
)

// Report counts what a re-drive read, judged and produced. It holds
// reasons, partitions and counts, never a key or a payload.
type Report struct {
	DeadLetterTopic, Topic string
	DryRun                 bool
	LateChecked            bool   // the watermarks were read
	Spans                  []Span // what was read, per dead-letter partition
	Read                   int64  // dead letters in the range
	Matched                int64  // of the chosen reasons
	NoPayload              int64  // pii_suspected (never re-driven) or empty: nothing to produce
	AlreadyRedriven        int64  // a copy naming it is on the input topic
	RejectedAgain          int64  // the dead letter of an earlier copy: re-driven once already
	Late                   int64  // valid, but its window closed at the last flush
	StillInvalid           map[schemas.Reason]int64
	// Produce is what was produced (or, in a dry run, would be), by the
	// reason it had and by dead-letter partition.
	Produce            int64
	ProduceByReason    map[schemas.Reason]int64
	ProduceByPartition map[int]int64
	Written            int64 // acknowledged by the brokers; 0 in a dry run
	Scanned            int64 // input messages read for earlier copies
	ScanTook, Took     time.Duration
}

func newReport(cfg Config, spans []Span) *Report {
	return &Report{
		DeadLetterTopic: cfg.DeadLetterTopic, Topic: cfg.Topic, DryRun: cfg.DryRun, LateChecked: cfg.Watermarks != nil, Spans: spans,
		StillInvalid: map[schemas.Reason]int64{}, ProduceByReason: map[schemas.Reason]int64{}, ProduceByPartition: map[int]int64{},
	}
}

func (r *Report) count(l *letter, v verdict, reason schemas.Reason) {
	switch v {
	case noPayload:
		r.NoPayload++
	case alreadyRedriven:
		r.AlreadyRedriven++
	case rejectedAgain:
		r.RejectedAgain++
	case stillInvalid:
		r.StillInvalid[reason]++
	case late:
		r.Late++
	case produce:
		r.Produce++
		r.ProduceByReason[l.reason]++
		r.ProduceByPartition[l.partition]++
	}
}

// Lines is the report for people; count spells numbers (console.Count).
func (r *Report) Lines(count func(int64) string) []string {
	var spans []string
	for _, s := range r.Spans {
		spans = append(spans, fmt.Sprintf("%d: %d-%d", s.Partition, s.From, s.To))
	}
	out := []string{
		fmt.Sprintf("read %s dead letters of %q (partition: offsets %s), %s of the chosen reasons", count(r.Read), r.DeadLetterTopic, strings.Join(spans, ", "), count(r.Matched)),
		fmt.Sprintf("  skipped %s pii_suspected or without payload (never re-driven)", count(r.NoPayload)),
		fmt.Sprintf("  skipped %s already re-driven, %s re-driven once and rejected again", count(r.AlreadyRedriven), count(r.RejectedAgain)),
		fmt.Sprintf("  skipped %s still invalid under this version's rules%s", count(sum(r.StillInvalid)), byKey(r.StillInvalid, count)),
	}
	if r.LateChecked {
		out = append(out, fmt.Sprintf("  skipped %s late: their window had closed at the partition's last flush", count(r.Late)))
	} else {
		out = append(out, "  late events not checked (no flush record): a late one is counted late and dropped")
	}
	verb := "produced"
	if r.DryRun {
		verb = "would produce"
	}
	out = append(out, fmt.Sprintf("%s %s to %q%s", verb, count(r.Produce), r.Topic, byKey(r.ProduceByReason, count)))
	if len(r.ProduceByPartition) > 0 {
		var parts []string
		for _, p := range slices.Sorted(maps.Keys(r.ProduceByPartition)) {
			parts = append(parts, fmt.Sprintf("%d: %s", p, count(r.ProduceByPartition[p])))
		}
		out = append(out, "  by dead-letter partition: "+strings.Join(parts, ", "))
	}
	out = append(out, fmt.Sprintf("scanned %s messages of %q for earlier re-drives in %v; took %v",
		count(r.Scanned), r.Topic, r.ScanTook.Round(time.Millisecond), r.Took.Round(time.Millisecond)))
	if r.DryRun {
		out = append(out, "dry run: nothing written")
	}
	return out
}

func sum(m map[schemas.Reason]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}

// byKey spells m as " (reason n, reason n)", reasons sorted; "" when empty.
func byKey(m map[schemas.Reason]int64, count func(int64) string) string {
	if len(m) == 0 {
		return ""
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %s", k, count(m[k])))
	}
	return " (" + strings.Join(parts, ", ") + ")"
}
