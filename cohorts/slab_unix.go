//go:build unix

package cohorts

import "syscall"

const offHeapAvailable = true

func mapAnon(size int) ([]byte, error) {
	return syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
}

func unmapAnon(mem []byte) error { return syscall.Munmap(mem) }
