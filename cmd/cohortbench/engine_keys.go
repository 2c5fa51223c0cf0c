package main

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sync"
)

// keyCounts counts messages by the cohort key the stage (c) view computes
// from them, so that the engine's result can be checked key by key:
// duplicates on one key and lost rows on another do not cancel out there,
// as they do in the total.
type keyCounts struct {
	mu sync.Mutex
	n  map[string]int64
}

func newKeyCounts() *keyCounts { return &keyCounts{n: map[string]int64{}} }

// add counts line under the key the view gives it.
func (k *keyCounts) add(line []byte) {
	var buf [64]byte
	key := engineKey(buf[:0], line)
	k.mu.Lock()
	k.n[string(key)]++
	k.mu.Unlock()
}

// engineKey appends the view's cohort key of line to dst:
// country|lang|age|platform, each as visitParamExtractString takes it.
func engineKey(dst, line []byte) []byte {
	for i, f := range []string{"country", "lang", "age", "platform"} {
		if i > 0 {
			dst = append(dst, '|')
		}
		dst = append(dst, visitParamString(line, f)...)
	}
	return dst
}

// visitParamString is ClickHouse's visitParamExtractString(line, name) for
// lines without backslashes (the caller counts those apart): the string
// right after the first `"name":`, or "" if none follows or it is not
// closed.
func visitParamString(line []byte, name string) []byte {
	var buf [32]byte
	needle := append(append(append(buf[:0], '"'), name...), '"', ':')
	i := bytes.Index(line, needle)
	if i < 0 {
		return nil
	}
	rest := line[i+len(needle):]
	if len(rest) == 0 || rest[0] != '"' {
		return nil
	}
	end := bytes.IndexByte(rest[1:], '"')
	if end < 0 {
		return nil
	}
	return rest[1 : 1+end]
}

// diff compares got (the engine's counts by key) with k: events counted
// more than once, events not counted, and up to maxLostKeys of the keys
// that lost some ("key: n", for a look at what the engine drops).
func (k *keyCounts) diff(got map[string]int64) (duplicates, lost int64, lostKeys []string) {
	for key, want := range k.n {
		d := got[key] - want
		switch {
		case d > 0:
			duplicates += d
		case d < 0:
			lost -= d
			if len(lostKeys) < maxLostKeys {
				lostKeys = append(lostKeys, fmt.Sprintf("%q: %d", key, -d))
			}
		}
	}
	for key, n := range got {
		if _, ok := k.n[key]; !ok {
			duplicates += n
		}
	}
	slices.Sort(lostKeys)
	return duplicates, lost, lostKeys
}

const maxLostKeys = 5

// countsByKey reads table's sum(events) per cohort key.
func (c *chClient) countsByKey(ctx context.Context, table string) (map[string]int64, error) {
	rows, err := c.conn.Query(ctx, "SELECT cohort_key, sum(events) FROM "+table+" GROUP BY cohort_key")
	if err != nil {
		return nil, fmt.Errorf("reading the counts of %s: %w", table, err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var key string
		var n uint64
		if err := rows.Scan(&key, &n); err != nil {
			return nil, fmt.Errorf("reading the counts of %s: %w", table, err)
		}
		out[key] = int64(n)
	}
	return out, rows.Err()
}
