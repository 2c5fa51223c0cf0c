package redrive

import (
	"bytes"
	"math"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/cohortline/cohortline/cohorts"
	"github.com/cohortline/cohortline/schemas"
)

// verdict is what a re-drive does with one dead letter of the range.
type verdict int

const (
	notChosen       verdict = iota // a reason not asked for
	noPayload                      // pii_suspected, or no value: nothing to produce
	alreadyRedriven                // the input topic has a copy naming it
	rejectedAgain                  // its original was itself a re-driven copy
	stillInvalid                   // this version's rules reject it again
	late                           // its window is closed: it would be counted late and dropped
	produce
)

// judge decides each dead letter's verdict. The rules are the pipeline's
// own (the decoder, the key check, the window's closing), so that a copy
// is produced only when the running pipeline would count it.
type judge struct {
	reasons Reasons
	topic   string // the input topic
	// keyByUser keys each copy by its event's user token, as a fixed
	// producer does: the cure of key_mismatch.
	keyByUser bool
	decoder   schemas.Decoder
	event     schemas.Event
	// names and copies are what scanning the input topic found: the
	// HeaderRedrivenFrom values, and where those copies are.
	names  map[string]bool
	copies map[position]bool
	// spec and watermarks are for the late check: the watermark of each
	// input partition's last flush (math.MinInt64 for none); nil
	// watermarks skip the check.
	spec       *cohorts.Spec
	watermarks []int64
	partitions []int // of the input topic, for murmur2
}

func newJudge(reasons Reasons, topic string, spec *cohorts.Spec, maxFutureSkew time.Duration, now time.Time, partitions int) *judge {
	j := &judge{reasons: reasons, topic: topic, spec: spec, names: map[string]bool{}, copies: map[position]bool{}}
	// As the consumer sets them when it starts: the contract's lower
	// bound, and the wall clock plus the skew allowed.
	j.decoder.MaxTS = now.Add(maxFutureSkew).UnixMilli()
	j.partitions = make([]int, partitions)
	for p := range j.partitions {
		j.partitions[p] = p
	}
	return j
}

// chosen is the first look, before the input topic is scanned: the
// reason, and whether there is a payload.
func (j *judge) chosen(l *letter) verdict {
	switch {
	case l.reason == "": // not the pipeline's: no reason header
		return notChosen
	case !j.reasons.Match(l.reason) && l.reason != schemas.ReasonPIISuspected:
		return notChosen
	case l.reason == schemas.ReasonPIISuspected || len(l.value) == 0:
		return noPayload
	}
	return produce
}

// verdict judges a chosen letter once the input topic has been scanned;
// for stillInvalid it also returns the reason the message would get now.
// With keyByUser it may give l the key its copy is produced with.
func (j *judge) verdict(l *letter, deadLetterTopic string) (verdict, schemas.Reason) {
	if v := j.chosen(l); v != produce {
		return v, ""
	}
	if j.names[l.name(deadLetterTopic)] {
		return alreadyRedriven, ""
	}
	if l.originTopic == j.topic && j.copies[position{l.originPartition, l.originOffset}] {
		return rejectedAgain, ""
	}
	if err := j.decoder.Decode(l.value, &j.event); err != nil {
		reason, _ := schemas.ReasonOf(err)
		return stillInvalid, reason
	}
	if j.keyByUser && !bytes.Equal(l.key, j.event.User) {
		l.key = bytes.Clone(j.event.User)
	}
	if !bytes.Equal(l.key, j.event.User) {
		return stillInvalid, schemas.ReasonKeyMismatch
	}
	if j.watermarks != nil {
		p := kafka.Murmur2Balancer{}.Balance(kafka.Message{Key: l.key}, j.partitions...)
		if wm := j.watermarks[p]; wm != math.MinInt64 && j.spec.Late(j.event.TS, wm) {
			return late, ""
		}
	}
	return produce, ""
}
