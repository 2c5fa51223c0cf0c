package archive

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"

	flatbuffers "github.com/google/flatbuffers/go"
)

// A schema whose field list claims a billion fields would make arrow/go
// allocate ~100 GB and kill the process; Open refuses it instead.
func TestArchiveArrowSchemaHugeVector(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"e.arrows", "e.arrow"} {
		path := writeFile(t, dir, name, generate(t, 10, 10))
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		// Find the schema's fields vector as checkArrowSchema does, and
		// overwrite its length.
		var meta []byte
		var base int
		if name == "e.arrows" {
			n := int(binary.LittleEndian.Uint32(data[4:]))
			meta, base = data[8:8+n], 8
		} else {
			n := int(binary.LittleEndian.Uint32(data[len(data)-10:]))
			base = len(data) - 10 - n
			meta = data[base : len(data)-10]
		}
		root := flatbuffers.Table{Bytes: meta, Pos: flatbuffers.GetUOffsetT(meta)}
		var schema flatbuffers.Table
		if name == "e.arrows" {
			root.Union(&schema, flatbuffers.UOffsetT(root.Offset(slotMessageHeader)))
		} else {
			schema = flatbuffers.Table{Bytes: meta, Pos: root.Indirect(root.Pos + flatbuffers.UOffsetT(root.Offset(slotFooterSchema)))}
		}
		o := flatbuffers.UOffsetT(schema.Offset(slotSchemaFields))
		lenAt := base + int(schema.Vector(o)) - 4
		if got := binary.LittleEndian.Uint32(data[lenAt:]); got != uint32(len(EventSchema.Fields())) {
			t.Fatalf("%s: found a fields vector of %d, want %d: wrong place", name, got, len(EventSchema.Fields()))
		}
		binary.LittleEndian.PutUint32(data[lenAt:], 1<<30)
		bad := filepath.Join(dir, "huge-"+name)
		if err := os.WriteFile(bad, data, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err = Open(bad)
		var fe *FileError
		if !errors.As(err, &fe) || !errors.Is(err, errCorruptSchema) {
			t.Errorf("%s: Open = %v, want the FileError of a corrupt schema", name, err)
		}
	}
}
