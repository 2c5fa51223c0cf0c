package pipeline

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"

	"github.com/segmentio/kafka-go"
)

// A connection failure is a failing link; the group protocol at work (a
// rebalance, a member the coordinator forgot) and data errors are not, so
// that run --fail-fast does not stop on a normal rebalance.
func TestIsConnectionError(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{fmt.Errorf("joining: %w", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}), true},
		{fmt.Errorf("kafka.(*Client).Metadata: %w", &net.DNSError{Err: "no such host", Name: "kafka.invalid", IsNotFound: true}), true},
		{fmt.Errorf("fetching: %w", syscall.ECONNRESET), true},
		{fmt.Errorf("coordinator: %w", kafka.GroupCoordinatorNotAvailable), true},
		{kafka.NotLeaderForPartition, true},
		{kafka.RebalanceInProgress, false},
		{fmt.Errorf("heartbeat: %w", kafka.UnknownMemberId), false},
		{kafka.OffsetOutOfRange, false},
		{context.Canceled, false},
		{errors.New("fetch response has correlation id 3, the request 4"), false},
		{nil, false},
	} {
		if got := isConnectionError(tc.err); got != tc.want {
			t.Errorf("isConnectionError(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

// TestRefusedSecurity: what a broker says of the client's TLS or SASL
// stops run at start; a broker that cannot be reached is retried.
func TestRefusedSecurity(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{fmt.Errorf("dial: %w", x509.HostnameError{Certificate: &x509.Certificate{}, Host: "kafka.example.com"}), true},
		{fmt.Errorf("auth: %w", kafka.SASLAuthenticationFailed), true},
		{fmt.Errorf("request: %w", io.EOF), true}, // plaintext on a TLS listener
		{errors.New("not answering a request: remote error: tls: bad certificate"), true},
		{fmt.Errorf("dial: %w", syscall.ECONNREFUSED), false},
		{fmt.Errorf("dial: %w", &net.DNSError{Err: "no such host", Name: "kafka.invalid"}), false},
	} {
		if got := refusedSecurity(nil, c.err); got != c.want {
			t.Errorf("refusedSecurity(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

// TestTimedOut: a silent broker is not asked again before its failure is
// logged (the security check would add another adminTimeout).
func TestTimedOut(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{fmt.Errorf("creating topic: %w", context.DeadlineExceeded), true},
		{fmt.Errorf("read: %w", &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}), true},
		{fmt.Errorf("dial: %w", syscall.ECONNREFUSED), false},
		{fmt.Errorf("auth: %w", kafka.SASLAuthenticationFailed), false},
		{fmt.Errorf("request: %w", io.EOF), false},
	} {
		if got := timedOut(c.err); got != c.want {
			t.Errorf("timedOut(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}
