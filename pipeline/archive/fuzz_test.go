package archive

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzArchiveColumnar feeds arbitrary bytes to the Parquet and Arrow IPC
// readers: they must end in io.EOF or a *FileError, never panic or die.
// The seeds are small good files of each kind.
func FuzzArchiveColumnar(f *testing.F) {
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
