package redrive

import (
	"fmt"
	"strconv"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/cohortline/cohortline/pipeline"
	"github.com/cohortline/cohortline/schemas"
)

// HeaderRedrivenFrom is on every message a re-drive produces: the dead
// letter it copies, as "<dead-letter topic>/<partition>/<offset>". A
// re-drive skips a dead letter whose name it finds on the input topic
// (see doc.go); the pipeline ignores the header.
const HeaderRedrivenFrom = "cohortline-redriven-from"

// letter is one dead letter as read from the dead-letter topic.
type letter struct {
	partition int   // in the dead-letter topic
	offset    int64 // in the dead-letter topic
	time      time.Time
	reason    schemas.Reason
	// origin is the rejected message's position: its topic, partition
	// and offset (the pipeline's headers); partition -1 when the headers
	// do not say.
	originTopic     string
	originPartition int
	originOffset    int64
	key, value      []byte // copies; nil for pii_suspected
}

// letterOf reads the pipeline's headers of dead letter m (whose Key and
// Value it keeps: kafka-go's Batch reads each message into fresh slices).
func letterOf(m kafka.Message) letter {
	l := letter{partition: m.Partition, offset: m.Offset, time: m.Time, key: m.Key, value: m.Value, originPartition: -1}
	var part, off string
	for _, h := range m.Headers {
		switch h.Key {
		case pipeline.HeaderReason:
			l.reason = schemas.Reason(h.Value)
		case pipeline.HeaderTopic:
			l.originTopic = string(h.Value)
		case pipeline.HeaderPartition:
			part = string(h.Value)
		case pipeline.HeaderOffset:
			off = string(h.Value)
		}
	}
	p, perr := strconv.Atoi(part)
	o, oerr := strconv.ParseInt(off, 10, 64)
	if perr == nil && oerr == nil && p >= 0 && o >= 0 {
		l.originPartition, l.originOffset = p, o
	}
	return l
}

// name is the letter's value of HeaderRedrivenFrom.
func (l *letter) name(deadLetterTopic string) string {
	return fmt.Sprintf("%s/%d/%d", deadLetterTopic, l.partition, l.offset)
}

// position names a message of the input topic: partition and offset.
type position struct {
	partition int
	offset    int64
}
