package archive

import (
	"encoding/binary"
	"errors"
	"io"

	flatbuffers "github.com/google/flatbuffers/go"
)

// arrow/go v15 reads Arrow IPC metadata (flatbuffers) without verifying
// it, and sizes slices by the vector lengths it finds in the schema. A
// corrupt length there makes it allocate terabytes, and the Go runtime
// does not panic on that, it kills the process. So before the library
// reads a schema, checkArrowSchema follows those vectors — the schema's
// fields and custom metadata, each field's children and custom metadata —
// and refuses any that cannot fit in the bytes they are read from. The
// rest of the metadata only indexes into buffers (a recoverable panic when
// out of range) or sizes buffers through the bounded allocator.

// vtable slots of the Arrow format's flatbuffer tables (format/*.fbs).
const (
	slotFooterSchema      = 6
	slotMessageHeaderType = 6
	slotMessageHeader     = 8
	slotSchemaFields      = 6
	slotSchemaMetadata    = 8
	slotFieldChildren     = 14
	slotFieldMetadata     = 16
	messageHeaderSchema   = 1 // the MessageHeader union's Schema member
)

var errCorruptSchema = errors.New("corrupt Arrow schema metadata: a list in it is longer than the metadata itself")

// checkArrowSchema finds the schema of an Arrow IPC file (in its footer)
// or stream (its first message) in f and checks it. Metadata it cannot
// locate is left to the library, which reports it.
func checkArrowSchema(f io.ReaderAt, size int64, isFile bool) error {
	var buf []byte
	var err error
	if isFile {
		buf, err = footerBytes(f, size)
	} else {
		buf, err = firstMessageBytes(f, size)
	}
	if buf == nil || err != nil {
		return err
	}
	root := flatbuffers.Table{Bytes: buf, Pos: flatbuffers.GetUOffsetT(buf)}
	var schema flatbuffers.Table
	if isFile {
		o := root.Offset(slotFooterSchema)
		if o == 0 {
			return nil
		}
		schema = flatbuffers.Table{Bytes: buf, Pos: root.Indirect(root.Pos + flatbuffers.UOffsetT(o))}
	} else {
		if root.GetUint8Slot(slotMessageHeaderType, 0) != messageHeaderSchema {
			return nil
		}
		o := root.Offset(slotMessageHeader)
		if o == 0 {
			return nil
		}
		root.Union(&schema, flatbuffers.UOffsetT(o))
	}
	// Every field table takes more than 4 bytes: a walk that visits more
	// has gone round a cycle or a shared subtree.
	c := schemaChecker{buf: buf, budget: len(buf) / 4}
	if err := c.vector(schema, slotSchemaMetadata, nil); err != nil {
		return err
	}
	return c.vector(schema, slotSchemaFields, c.field)
}

// footerBytes reads the footer of an Arrow IPC file: it ends the file,
// followed by its int32 length and the magic.
func footerBytes(f io.ReaderAt, size int64) ([]byte, error) {
	tail := make([]byte, 4+len(arrowFileMagic))
	if size < int64(len(tail)) {
		return nil, nil
	}
	if _, err := f.ReadAt(tail, size-int64(len(tail))); err != nil {
		return nil, err
	}
	n := int64(int32(binary.LittleEndian.Uint32(tail)))
	if n < 4 || n > size-int64(len(tail)) {
		return nil, nil
	}
	buf := make([]byte, n)
	_, err := f.ReadAt(buf, size-int64(len(tail))-n)
	return buf, err
}

// firstMessageBytes reads the metadata of an Arrow stream's first message:
// after 0xFFFFFFFF (absent before Arrow 0.15), its int32 length.
func firstMessageBytes(f io.ReaderAt, size int64) ([]byte, error) {
	var head [8]byte
	if _, err := f.ReadAt(head[:], 0); err != nil {
		return nil, nil // too short: the library says so
	}
	n, at := int64(int32(binary.LittleEndian.Uint32(head[:4]))), int64(4)
	if n == -1 {
		n, at = int64(int32(binary.LittleEndian.Uint32(head[4:]))), 8
	}
	if n < 4 || n > size-at {
		return nil, nil
	}
	buf := make([]byte, n)
	_, err := f.ReadAt(buf, at)
	return buf, err
}

type schemaChecker struct {
	buf    []byte
	budget int // field tables left to visit
}

func (c *schemaChecker) field(t flatbuffers.Table) error {
	if c.budget--; c.budget < 0 {
		return errCorruptSchema
	}
	if err := c.vector(t, slotFieldMetadata, nil); err != nil {
		return err
	}
	return c.vector(t, slotFieldChildren, c.field)
}

// vector checks that the vector of table offsets in slot of t fits in the
// buffer, then calls each, if not nil, on its tables.
func (c *schemaChecker) vector(t flatbuffers.Table, slot flatbuffers.VOffsetT, each func(flatbuffers.Table) error) error {
	o := flatbuffers.UOffsetT(t.Offset(slot))
	if o == 0 {
		return nil
	}
	n, start := t.VectorLen(o), t.Vector(o)
	if n < 0 || int64(start)+4*int64(n) > int64(len(c.buf)) {
		return errCorruptSchema
	}
	for i := 0; i < n && each != nil; i++ {
		elem := start + flatbuffers.UOffsetT(4*i)
		if err := each(flatbuffers.Table{Bytes: c.buf, Pos: t.Indirect(elem)}); err != nil {
			return err
		}
	}
	return nil
}
