package kafkawire

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl"
	"github.com/segmentio/kafka-go/sasl/plain"
	"github.com/segmentio/kafka-go/sasl/scram"

	"github.com/cohortline/cohortline/deploy/devenv"
)

// TestPartitionReaderSecured reads a partition of the real broker through
// its secured listeners, with each SASL mechanism over TLS and with a
// client certificate (mTLS): every message once and in order, the fetches
// on connections that dialFetch secured itself, as kafka-go's dialer
// secured the leader's.
func TestPartitionReaderSecured(t *testing.T) {
	sec := devenv.KafkaSecure(t)
	topic := singlePartitionTopic(t, devenv.Kafka(t), 2000)
	pw := devenv.ReadSecret(t, sec.SASLPasswordFile)
	for _, c := range []struct {
		name   string
		addr   string
		dialer *kafka.Dialer
	}{
		{"SASL_SSL/SCRAM-SHA-512", sec.SASLSSL, &kafka.Dialer{TLS: devTLS(t, sec.TLSFiles, false), SASLMechanism: scramOf(t, scram.SHA512, sec.SASLUser, pw)}},
		{"SASL_SSL/SCRAM-SHA-256", sec.SASLSSL, &kafka.Dialer{TLS: devTLS(t, sec.TLSFiles, false), SASLMechanism: scramOf(t, scram.SHA256, sec.SASLUser, pw)}},
		{"SASL_SSL/PLAIN", sec.SASLSSL, &kafka.Dialer{TLS: devTLS(t, sec.TLSFiles, false), SASLMechanism: plain.Mechanism{Username: sec.SASLUser, Password: pw}}},
		{"SSL/mTLS", sec.MTLS, &kafka.Dialer{TLS: devTLS(t, sec.TLSFiles, true)}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := NewPartitionReader(c.dialer, []string{c.addr}, topic, 0, kafka.FirstOffset)
			defer r.Close()
			next := int64(0)
			handle := func(m kafka.Message) error {
				if m.Offset != next || string(m.Value) != strconv.FormatInt(next, 10) {
					t.Fatalf("message at offset %d (%q), want offset %d", m.Offset, m.Value, next)
				}
				next++
				return nil
			}
			for next < 2000 {
				if _, err := r.Fetch(t.Context(), handle); err != nil {
					t.Fatalf("fetch at offset %d: %v", r.Offset(), err)
				}
			}
			if _, ok := r.conn.conn.(*tls.Conn); !ok {
				t.Errorf("the fetch connection is a %T, not TLS", r.conn.conn)
			}
		})
	}
}

// TestDialFetchRefused: the fetch connection's own handshakes refuse what
// the broker refuses, within the dial timeout, with an error that says
// which step failed: a wrong password, an unknown user, a plaintext
// client on a TLS listener, a certificate for another name, a missing
// client certificate on the mTLS listener.
func TestDialFetchRefused(t *testing.T) {
	sec := devenv.KafkaSecure(t)
	pw := devenv.ReadSecret(t, sec.SASLPasswordFile)
	wrongName := devTLS(t, sec.TLSFiles, false)
	wrongName.ServerName = "kafka.example.com"
	const timeout = 5 * time.Second
	for _, c := range []struct {
		name, addr string
		dialer     kafka.Dialer
		want       string
	}{
		{"wrong password", sec.SASLSSL, kafka.Dialer{TLS: devTLS(t, sec.TLSFiles, false), SASLMechanism: scramOf(t, scram.SHA512, sec.SASLUser, "not-"+pw)}, "SASL SCRAM-SHA-512 authentication"},
		{"unknown user", sec.SASLSSL, kafka.Dialer{TLS: devTLS(t, sec.TLSFiles, false), SASLMechanism: scramOf(t, scram.SHA512, "nobody", pw)}, "SASL SCRAM-SHA-512 authentication"},
		{"plaintext on TLS", sec.SASLSSL, kafka.Dialer{}, "this listener speaks TLS"},
		{"wrong server name", sec.SASLSSL, kafka.Dialer{TLS: wrongName, SASLMechanism: scramOf(t, scram.SHA512, sec.SASLUser, pw)}, "kafka.example.com"},
		{"no client certificate", sec.MTLS, kafka.Dialer{TLS: devTLS(t, sec.TLSFiles, false)}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.dialer.Timeout = timeout
			start := time.Now()
			conn, err := dialFetch(t.Context(), &c.dialer, c.addr)
			if err == nil && (c.want == "" || c.dialer.TLS == nil) {
				// A refusal the TLS 1.3 server sends after the client's
				// handshake is done (no client certificate) or none at all
				// (a plaintext request on a TLS port): the first request
				// fails instead.
				f := newFetchConn(conn, "t", 0)
				f.conn.SetDeadline(time.Now().Add(timeout))
				err = f.fetch(0, 100*time.Millisecond, 1, 1<<20)
				f.close()
			} else if conn != nil {
				conn.Close()
			}
			if err == nil {
				t.Fatal("connected and fetched; want a refusal")
			}
			if took := time.Since(start); took > timeout+2*time.Second {
				t.Errorf("refused after %s, the dial timeout is %s", took, timeout)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not say %q", err, c.want)
			}
			if strings.Contains(err.Error(), pw) {
				t.Errorf("error %q carries the password", err)
			}
			t.Logf("%s: %v", c.name, err)
			if errors.Is(err, kafka.SASLAuthenticationFailed) || c.dialer.SASLMechanism == nil || c.name == "wrong server name" {
				return
			}
			t.Errorf("error %q is not kafka.SASLAuthenticationFailed", err)
		})
	}
}

// devTLS is a client TLS config trusting the dev CA, with the client
// certificate when mtls.
func devTLS(t *testing.T, f devenv.TLSFiles, mtls bool) *tls.Config {
	t.Helper()
	pem, err := os.ReadFile(f.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	cfg := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	if mtls {
		cert, err := tls.LoadX509KeyPair(f.CertFile, f.KeyFile)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg
}

func scramOf(t *testing.T, algo scram.Algorithm, user, pw string) sasl.Mechanism {
	t.Helper()
	m, err := scram.Mechanism(algo, user, pw)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
