package archive

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzArchiveColumnar feeds arbitrary bytes to the Parquet and Arrow IPC
// readers: they must end in io.EOF or a *FileError, never panic or die.
// The seeds are small good files of each kind.
//
// Speed matters for a fuzzer: the inputs stay a few KiB (seeds of 20
// events), the readers size their buffers by the file and the footer's
// row counts, and a length in an input that asks for more than 16 MiB is
// refused as corrupt (it would be in a file this small) instead of being
// allocated, the same path a real file takes above 1 GiB.
func FuzzArchiveColumnar(f *testing.F) {
	defer func(old int) { maxBuffer = old }(maxBuffer)
	maxBuffer = 16 << 20
	exts := []string{".parquet", ".arrow", ".arrows"}
	events := generate(f, 20, 9)
	dir := f.TempDir()
	for i, ext := range exts {
		seed, err := os.ReadFile(writeFile(f, dir, "seed"+ext, events))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(i), seed)
	}
	f.Fuzz(func(t *testing.T, kind uint8, data []byte) {
		path := filepath.Join(t.TempDir(), "fuzz"+exts[int(kind)%len(exts)])
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		readBroken(t, path) // fails the test on an error that is not a FileError
	})
}
