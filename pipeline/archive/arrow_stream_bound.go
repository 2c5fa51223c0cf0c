package archive

import (
	"encoding/binary"
	"fmt"
	"io"

	"github.com/apache/arrow/go/v15/arrow/ipc"
	flatbuffers "github.com/google/flatbuffers/go"
)

// arrow/go v15's stream reader makes a slice of each message's metadata
// length before reading it, straight from the int32 in the stream: a
// corrupt length (or an Arrow file read as a stream, whose magic reads as
// 1.3 GB) allocated and cleared up to 2 GiB per message, outside the
// bounded allocator. That took FuzzArchiveColumnar from thousands of
// inputs a second to a handful. boundedMessages checks each message's
// framing against the bytes left in the file before the library reads it.

// slotMessageBodyLength is Message.bodyLength's vtable slot (format/Message.fbs).
const slotMessageBodyLength = 10

// boundedMessages is the stream's message reader, refusing a message whose
// metadata or body would extend past the end of the file.
type boundedMessages struct {
	ipc.MessageReader
	f    *countingFile // read sequentially by MessageReader: f.n is where the next message starts
	size int64
}

func newBoundedMessages(f *countingFile, size int64) *boundedMessages {
	return &boundedMessages{MessageReader: ipc.NewMessageReader(f, ipc.WithAllocator(allocator)), f: f, size: size}
}

func (m *boundedMessages) Message() (*ipc.Message, error) {
	if err := checkMessageFraming(m.f.f, m.f.n, m.size); err != nil {
		return nil, err
	}
	return m.MessageReader.Message()
}

// checkMessageFraming checks the message that starts at offset at of a
// stream of size bytes: its metadata length (after the 0xFFFFFFFF
// continuation marker, absent before Arrow 0.15) and the body length its
// metadata gives. What it cannot read (the end of the file, the
// end-of-stream marker) is left to the library, which reports it.
func checkMessageFraming(f io.ReaderAt, at, size int64) error {
	var head [8]byte
	if n, _ := f.ReadAt(head[:], at); n < 4 {
		return nil
	}
	n, meta := int64(int32(binary.LittleEndian.Uint32(head[:4]))), at+4
	if n == -1 {
		n, meta = int64(int32(binary.LittleEndian.Uint32(head[4:]))), at+8
	}
	switch {
	case n == 0:
		return nil // end of stream
	case n < 0 || n > size-meta:
		return fmt.Errorf("the message at offset %d has %d bytes of metadata, the file only %d more: corrupt", at, n, max(size-meta, 0))
	}
	buf := make([]byte, n) // at most the file's size
	if _, err := f.ReadAt(buf, meta); err != nil {
		return nil
	}
	if n < 8 {
		return nil // too short for a table: the library says so
	}
	root := flatbuffers.Table{Bytes: buf, Pos: flatbuffers.GetUOffsetT(buf)}
	if int64(root.Pos)+4 > n {
		return fmt.Errorf("the message at offset %d has corrupt metadata", at)
	}
	body := root.GetInt64Slot(slotMessageBodyLength, 0)
	if rest := size - meta - n; body < 0 || body > rest {
		return fmt.Errorf("the message at offset %d has a body of %d bytes, the file only %d more: corrupt", at, body, rest)
	}
	return nil
}
