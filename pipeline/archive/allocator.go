package archive

import (
	"fmt"

	"github.com/apache/arrow/go/v15/arrow/memory"
)

// maxBuffer is the largest single buffer the columnar readers allocate.
// The Arrow and Parquet libraries size buffers from lengths written in the
// file; in a corrupt file such a length can ask for terabytes, and the Go
// runtime does not panic on that, it dies. No column of a sane record batch
// comes near this: 64Ki rows of events take a few MiB. A variable only
// for FuzzArchiveColumnar, whose inputs are small: there a length that
// asks for more than a few MiB is corrupt, and allocating up to a GiB per
// input made the fuzzer crawl.
var maxBuffer = 1 << 30

// allocator is the Go allocator, except that it refuses a buffer over
// maxBuffer with a panic, which the readers recover as a FileError.
var allocator memory.Allocator = &boundedAllocator{}

type boundedAllocator struct{ memory.GoAllocator }

// errBufferTooLarge is the value of that panic.
type errBufferTooLarge int

func (e errBufferTooLarge) Error() string {
	return fmt.Sprintf("a length in the file asks for a buffer of %d bytes, more than the %d accepted", int(e), maxBuffer)
}

func (a *boundedAllocator) Allocate(size int) []byte {
	if size > maxBuffer {
		panic(errBufferTooLarge(size))
	}
	return a.GoAllocator.Allocate(size)
}

func (a *boundedAllocator) Reallocate(size int, b []byte) []byte {
	if size > maxBuffer {
		panic(errBufferTooLarge(size))
	}
	return a.GoAllocator.Reallocate(size, b)
}
