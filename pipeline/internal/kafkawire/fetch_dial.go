package kafkawire

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl"
)

// Dialing a fetch connection: the same TLS and SASL as the kafka-go Dialer
// that finds the leader (its TLS and SASLMechanism), so that the fetches
// speak exactly what the rest of the product's connections do. kafka-go
// does not lend its handshake to a connection it did not make, so the few
// requests SASL needs are written here: SaslHandshake v1, then
// SaslAuthenticate v1 frames driven by the sasl.Mechanism's state machine,
// as kafka-go's Conn does (KIP-152).

const (
	apiKeySaslHandshake    = 17
	apiKeySaslAuthenticate = 36
	saslHandshakeVersion   = 1
	saslAuthVersion        = 1

	// saslFrameLimit bounds a SASL response: a challenge is a few hundred
	// bytes, and a broken length must not take the memory.
	saslFrameLimit = 1 << 20
)

// dialFetch connects to addr for fetching: TCP, then TLS and SASL when the
// dialer has them, within the dialer's timeout. Errors say which step
// failed at which address.
func dialFetch(ctx context.Context, d *kafka.Dialer, addr string) (net.Conn, error) {
	if d.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d.Timeout)
		defer cancel()
	}
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	if deadline, ok := ctx.Deadline(); ok {
		conn.SetDeadline(deadline)
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()
	if d.TLS != nil {
		tlsConn := tls.Client(conn, tlsFor(d.TLS, addr))
		if err := tlsConn.HandshakeContext(ctx); err != nil {
			conn.Close()
			return nil, fmt.Errorf("TLS handshake: %w", err)
		}
		conn = tlsConn
	}
	if d.SASLMechanism != nil {
		if err := authenticate(ctx, conn, d.SASLMechanism, addr); err != nil {
			conn.Close()
			return nil, fmt.Errorf("SASL %s authentication: %w", d.SASLMechanism.Name(), err)
		}
	}
	conn.SetDeadline(time.Time{})
	return conn, nil
}

// tlsFor is cfg with the server name defaulted to the host dialed, as
// kafka-go's Dialer does.
func tlsFor(cfg *tls.Config, addr string) *tls.Config {
	if cfg.ServerName != "" {
		return cfg
	}
	c := cfg.Clone()
	if host, _, err := net.SplitHostPort(addr); err == nil {
		c.ServerName = host
	}
	return c
}

// authenticate runs the SASL exchange on conn: the handshake names the
// mechanism, then each of the mechanism's messages goes in a
// SaslAuthenticate request and the broker's answer is its next challenge.
func authenticate(ctx context.Context, conn net.Conn, mech sasl.Mechanism, addr string) error {
	s := saslConn{conn: conn}
	if err := s.handshake(mech.Name()); err != nil {
		return err
	}
	host, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	ctx = sasl.WithMetadata(ctx, &sasl.Metadata{Host: host, Port: p})
	sess, msg, err := mech.Start(ctx)
	if err != nil {
		return err
	}
	for done := false; !done; {
		challenge, err := s.authenticate(msg)
		if err != nil {
			return err
		}
		if done, msg, err = sess.Next(ctx, challenge); err != nil {
			return err
		}
	}
	return nil
}

// saslConn writes SASL requests and reads their responses.
type saslConn struct {
	conn net.Conn
	id   int32
}

func (s *saslConn) handshake(mechanism string) error {
	resp, err := s.roundTrip(apiKeySaslHandshake, saslHandshakeVersion, appendString(nil, mechanism))
	if err != nil {
		return fmt.Errorf("SaslHandshake: %w", err)
	}
	w := wire{b: resp}
	code := w.int16()
	var offered []string
	for n := w.int32(); n > 0 && !w.short; n-- {
		offered = append(offered, string(w.bytes(int(w.int16()))))
	}
	switch {
	case w.short:
		return errors.New("SaslHandshake: truncated response")
	case code != 0:
		return fmt.Errorf("the broker offers %v, not %s: %w", offered, mechanism, kafka.Error(code))
	}
	return nil
}

// authenticate sends one message and returns the broker's answer.
func (s *saslConn) authenticate(msg []byte) ([]byte, error) {
	body := binary.BigEndian.AppendUint32(nil, uint32(len(msg)))
	resp, err := s.roundTrip(apiKeySaslAuthenticate, saslAuthVersion, append(body, msg...))
	if err != nil {
		return nil, fmt.Errorf("SaslAuthenticate: %w", err)
	}
	w := wire{b: resp}
	code := w.int16()
	var text string
	if n := w.int16(); n >= 0 {
		text = string(w.bytes(int(n)))
	}
	answer := w.bytes(int(w.int32()))
	w.int64() // session_lifetime_ms: a broker that sets one closes the connection then, and the next fetch dials again
	switch {
	case w.short:
		return nil, errors.New("SaslAuthenticate: truncated response")
	case code != 0 && text != "":
		return nil, fmt.Errorf("%s: %w", text, kafka.Error(code))
	case code != 0:
		return nil, kafka.Error(code)
	}
	return answer, nil
}

// roundTrip sends a request (header v1: api key, version, correlation id,
// client id) with body and returns the response after its correlation id.
func (s *saslConn) roundTrip(apiKey, version int16, body []byte) ([]byte, error) {
	s.id++
	be := binary.BigEndian
	req := be.AppendUint32(nil, 0)
	req = be.AppendUint16(req, uint16(apiKey))
	req = be.AppendUint16(req, uint16(version))
	req = be.AppendUint32(req, uint32(s.id))
	req = appendString(req, clientID)
	req = append(req, body...)
	be.PutUint32(req, uint32(len(req)-4))
	if _, err := s.conn.Write(req); err != nil {
		return nil, err
	}
	var size [4]byte
	if _, err := io.ReadFull(s.conn, size[:]); err != nil {
		return nil, err
	}
	if tlsRecord(size[:]) {
		return nil, errTLSListener
	}
	n := int32(be.Uint32(size[:]))
	if n < 4 || n > saslFrameLimit {
		return nil, fmt.Errorf("response of %d bytes: outside [4, %d]", n, saslFrameLimit)
	}
	resp := make([]byte, n)
	if _, err := io.ReadFull(s.conn, resp); err != nil {
		return nil, err
	}
	if id := int32(be.Uint32(resp)); id != s.id {
		return nil, fmt.Errorf("response has correlation id %d, the request %d", id, s.id)
	}
	return resp[4:], nil
}
