package main

import (
	"bytes"
	"encoding/json"
	"hash/fnv"
	"slices"
	"strconv"
	"sync"
)

// flinkTruth is what stage (d) must find in the topic, computed in Go from
// every message, untimed: which messages the job's parser (Jackson, in
// EventDeserializer.java) takes as events, and for those the events and
// distinct users of each (cohort key, window). The key is stage (c)'s
// (keyCounts), for the invalid messages too.
type flinkTruth struct {
	minTS, maxTS, windowMS int64

	mu      sync.Mutex
	invalid int64
	ids     map[string]uint32 // cohort key -> index in keys
	keys    []string
	seen    []keyedUser // one per valid event
}

// keyedUser is one valid event: its cell (key index << 32 | window
// number) and a 64-bit hash of its user token (FNV-1a). Distinct users are
// counted over the hashes; two tokens of one cell would have to collide
// in 64 bits to be miscounted.
type keyedUser struct {
	cell, user uint64
}

// cellKey names one (cohort key, window) of stage (d)'s results.
type cellKey struct {
	Key         string
	WindowStart int64 // Unix epoch milliseconds
}

// cellCount is the events and distinct users of one cell.
type cellCount struct {
	Events, Users int64
}

func newFlinkTruth(minTS, maxTS, windowMS int64) *flinkTruth {
	return &flinkTruth{minTS: minTS, maxTS: maxTS, windowMS: windowMS, ids: map[string]uint32{}}
}

// add takes one message.
func (f *flinkTruth) add(line []byte) {
	ts, user, ok := parseEvent(line)
	if ok && (ts < f.minTS || ts >= f.maxTS) {
		ok = false
	}
	if !ok {
		f.mu.Lock()
		f.invalid++
		f.mu.Unlock()
		return
	}
	var buf [64]byte
	key := engineKey(buf[:0], line)
	h := fnv.New64a()
	h.Write(user)
	window := uint64(ts / f.windowMS) // ts >= minTS > 0
	f.mu.Lock()
	id, found := f.ids[string(key)]
	if !found {
		id = uint32(len(f.keys))
		f.ids[string(key)] = id
		f.keys = append(f.keys, string(key))
	}
	f.seen = append(f.seen, keyedUser{cell: uint64(id)<<32 | window, user: h.Sum64()})
	f.mu.Unlock()
}

// parseEvent reads a message the way EventDeserializer.java does: one JSON
// object whose "ts" is an integer (an int64) and whose "user" is a string.
// encoding/json matches the names case-insensitively, Jackson exactly: no
// generated record holds a "TS" or "User".
func parseEvent(line []byte) (ts int64, user []byte, ok bool) {
	var ev struct {
		TS   json.RawMessage `json:"ts"`
		User *string         `json:"user"`
	}
	if json.Unmarshal(line, &ev) != nil || ev.User == nil || !isJSONInteger(ev.TS) {
		return 0, nil, false
	}
	ts, err := strconv.ParseInt(string(ev.TS), 10, 64)
	if err != nil {
		return 0, nil, false
	}
	return ts, []byte(*ev.User), true
}

// isJSONInteger reports whether raw is a JSON number without fraction or
// exponent (Jackson's VALUE_NUMBER_INT).
func isJSONInteger(raw json.RawMessage) bool {
	raw = bytes.TrimPrefix(raw, []byte("-"))
	if len(raw) == 0 {
		return false
	}
	for _, c := range raw {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// cells sorts what add saw and counts it by cell.
func (f *flinkTruth) cells() map[cellKey]cellCount {
	f.mu.Lock()
	defer f.mu.Unlock()
	slices.SortFunc(f.seen, func(a, b keyedUser) int {
		if a.cell != b.cell {
			return cmpUint(a.cell, b.cell)
		}
		return cmpUint(a.user, b.user)
	})
	out := map[cellKey]cellCount{}
	for i, s := range f.seen {
		k := cellKey{Key: f.keys[s.cell>>32], WindowStart: int64(s.cell&(1<<32-1)) * f.windowMS}
		c := out[k]
		c.Events++
		if i == 0 || f.seen[i-1] != s {
			c.Users++
		}
		out[k] = c
	}
	return out
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// cellCheck compares stage (d)'s cells with the truth.
type cellCheck struct {
	Cells int // cells in the truth
	// EventsWrong are cells whose windowed plus late events differ from
	// the truth (or that the truth does not have).
	EventsWrong int
	// UsersExact are cells without late events whose distinct users match;
	// UsersWrong are cells whose users differ where they must match (no
	// late event) or exceed the truth (with late ones, the job's count may
	// be lower: the late events' users may be missing).
	UsersExact, UsersWrong int
}

func (c cellCheck) exact() bool { return c.EventsWrong == 0 && c.UsersWrong == 0 }

// check compares windows (the job's per-cell results) and late (its late
// events per cell) with want.
func checkCells(want map[cellKey]cellCount, windows map[cellKey]cellCount, late map[cellKey]int64) cellCheck {
	c := cellCheck{Cells: len(want)}
	for k, w := range want {
		got := windows[k]
		if got.Events+late[k] != w.Events {
			c.EventsWrong++
		}
		switch {
		case late[k] == 0 && got.Users == w.Users:
			c.UsersExact++
		case late[k] == 0 || got.Users > w.Users:
			c.UsersWrong++
		}
	}
	for k := range windows {
		if _, ok := want[k]; !ok {
			c.EventsWrong++
		}
	}
	for k := range late {
		if _, ok := want[k]; !ok {
			c.EventsWrong++
		}
	}
	return c
}
