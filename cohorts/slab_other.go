//go:build !unix

package cohorts

import "errors"

// Elsewhere the tables stay on the Go heap (allocSlots checks this first).
const offHeapAvailable = false

func mapAnon(int) ([]byte, error) { return nil, errors.New("no anonymous mappings on this platform") }

func unmapAnon([]byte) error { return nil }
