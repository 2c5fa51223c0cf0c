package main

import (
	"errors"
	"fmt"
	"testing"

	"github.com/segmentio/kafka-go"
)

// TestRetriable: a fresh broker answers offset fetches with "not the
// coordinator" for a while (CI met it); that means "ask again", while a
// real failure stays one.
func TestRetriable(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want bool
	}{
		{kafka.NotCoordinatorForGroup, true},
		{fmt.Errorf("wrapped: %w", kafka.GroupLoadInProgress), true},
		{kafka.GroupAuthorizationFailed, false},
		{errors.New("connection refused"), false},
		{nil, false},
	} {
		if got := retriable(tt.err); got != tt.want {
			t.Errorf("retriable(%v) = %t, want %t", tt.err, got, tt.want)
		}
	}
}
