package pipeline

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"syscall"

	"github.com/segmentio/kafka-go"
)

// Health hears of the consumer's connection failures and recoveries, by
// link: linkGroup (the group coordinator and topic administration),
// linkFetch (the partition leaders) and linkDeadLetters (the dead-letter
// writer). `run` gives it pipeline/ops.Links, which logs a failure once
// per class, shows it on /readyz and, with --fail-fast, stops the command.
type Health interface {
	Failed(link, addr string, err error)
	Recovered(link string)
}

// The links the consumer reports on.
const (
	linkGroup       = "kafka"
	linkFetch       = "kafka fetch"
	linkDeadLetters = "kafka dead letters"
)

// logHealth is the Health of a consumer that was given none (tests, the
// demo): every failure is a warning, as before Links existed.
type logHealth struct{ log *slog.Logger }

func (h logHealth) Failed(link, addr string, err error) {
	h.log.Warn("connection failed; retrying", "link", link, "addr", addr, "err", err)
}

func (logHealth) Recovered(string) {}

// isConnectionError reports whether err says a broker cannot be reached
// or is not serving (refused, reset, timed out, no such host, not the
// coordinator or leader any more), as opposed to a protocol answer that
// is part of normal operation (a rebalance in progress, an unknown
// member after one): only the former is a failing link.
func isConnectionError(err error) bool {
	var netErr net.Error
	var kerr kafka.Error
	switch {
	case err == nil:
		return false
	case errors.As(err, &kerr): // first: kafka.Error has Timeout and Temporary, so it is a net.Error too
		switch kerr {
		case kafka.BrokerNotAvailable, kafka.GroupCoordinatorNotAvailable, kafka.NotCoordinatorForGroup,
			kafka.LeaderNotAvailable, kafka.NotLeaderForPartition, kafka.RequestTimedOut, kafka.NetworkException:
			return true
		}
		return false
	case errors.As(err, &netErr):
		return true
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
		return true
	}
	// kafka-go's Client reports a broker it cannot dial as a plain error
	// naming it; its Metadata wraps dial errors as text only.
	return strings.Contains(err.Error(), "dial tcp")
}

// refusedSecurity reports whether err, CheckBroker's, is a broker refusing
// the client's security rather than being unreachable: a certificate that
// does not verify, a TLS alert, a SASL authentication that failed, or a
// plaintext client hung up on by a TLS listener. No retry cures those.
func refusedSecurity(d *Dialer, err error) bool {
	var hostErr x509.HostnameError
	var authErr x509.UnknownAuthorityError
	var invalidErr x509.CertificateInvalidError
	var verifyErr *tls.CertificateVerificationError
	var recordErr tls.RecordHeaderError
	var alert tls.AlertError
	switch {
	case errors.As(err, &hostErr), errors.As(err, &authErr), errors.As(err, &invalidErr),
		errors.As(err, &verifyErr), errors.As(err, &recordErr), errors.As(err, &alert):
		return true
	case errors.Is(err, kafka.SASLAuthenticationFailed), errors.Is(err, kafka.UnsupportedSASLMechanism),
		errors.Is(err, kafka.IllegalSASLState):
		return true
	case d.tlsConfig() == nil && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)):
		return true // CheckBroker connected, and the listener hung up on the request
	}
	// The server's alert (a client certificate required, TLS 1.3 says so
	// after the handshake) comes as an unexported type: only its text
	// tells.
	return strings.Contains(err.Error(), "remote error: tls:")
}

// timedOut reports whether err is a wait that ran out (a broker that
// accepts and stays silent) rather than an answer.
func timedOut(err error) bool {
	var netErr net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &netErr) && netErr.Timeout()
}

// brokersText is the bootstrap addresses as one string, for Health.
func brokersText(brokers []string) string { return strings.Join(brokers, ",") }
