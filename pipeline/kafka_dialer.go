package pipeline

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl"
	"github.com/segmentio/kafka-go/sasl/plain"
	"github.com/segmentio/kafka-go/sasl/scram"

	"github.com/cohortline/cohortline/netsec"
)

// SASLConfig is kafka.sasl: how the product authenticates to the brokers.
// The password comes from password_env or password_file (netsec.Secret),
// never from the file itself.
type SASLConfig struct {
	// Mechanism is PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512; empty: no SASL.
	Mechanism string        `yaml:"mechanism"`
	Username  string        `yaml:"username"`
	Secret    netsec.Secret `yaml:",inline"` // password_env or password_file
}

// The SASL mechanisms of kafka-go that cohortline offers.
const (
	MechanismPlain       = "PLAIN"
	MechanismSCRAMSHA256 = "SCRAM-SHA-256"
	MechanismSCRAMSHA512 = "SCRAM-SHA-512"
)

// Validate checks the block without reading the secret; tlsOn says
// whether kafka.tls is enabled.
func (s SASLConfig) Validate(tlsOn bool) error {
	if s.Mechanism == "" {
		if s.Username != "" || s.Secret != (netsec.Secret{}) {
			return errors.New("kafka.sasl.mechanism: required when kafka.sasl has a username or password (PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512)")
		}
		return nil
	}
	switch s.Mechanism {
	case MechanismPlain, MechanismSCRAMSHA256, MechanismSCRAMSHA512:
	default:
		return fmt.Errorf("kafka.sasl.mechanism: %q is none of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 (upper case, as Kafka names them)", s.Mechanism)
	}
	if err := s.Secret.Check(); err != nil {
		return fmt.Errorf("kafka.sasl.%w", err)
	}
	switch {
	case s.Username == "":
		return fmt.Errorf("kafka.sasl.username: required for %s", s.Mechanism)
	case !s.Secret.Set():
		return fmt.Errorf("kafka.sasl.password_env, kafka.sasl.password_file: %s needs a password: name the environment variable or the file that holds it", s.Mechanism)
	case s.Mechanism == MechanismPlain && !tlsOn:
		return errors.New("kafka.sasl.mechanism: PLAIN sends the password in the clear: enable kafka.tls, or use SCRAM")
	}
	return nil
}

// Dialer is what every Kafka connection of the product speaks: TLS and
// SASL, built once from kafka.tls and kafka.sasl (NewDialer) and shared
// by the consumer group and its commits, the own Fetch client, the
// dead-letter writer, the admin requests, backfill, gen and the demo.
// A nil *Dialer is plaintext without authentication.
type Dialer struct {
	tls       *tls.Config
	sasl      sasl.Mechanism
	transport *kafka.Transport // one pool for every kafka.Client and Writer
	insecure  bool
}

// dialTimeout bounds connecting to a broker, TLS and SASL handshakes
// included: a refused handshake fails within it.
const dialTimeout = 10 * time.Second

// NewDialer validates the settings, reads the CA, the client certificate
// and the password, and builds the dialer: every error names its key.
// getenv reads password_env.
func NewDialer(tlsCfg netsec.TLS, s SASLConfig, getenv func(string) string) (*Dialer, error) {
	if err := s.Validate(tlsCfg.Enabled); err != nil {
		return nil, err
	}
	tc, err := tlsCfg.Config()
	if err != nil {
		return nil, fmt.Errorf("kafka.%w", err)
	}
	d := &Dialer{tls: tc, insecure: tlsCfg.Insecure()}
	if s.Mechanism != "" {
		pw, err := s.Secret.Read(getenv)
		if err != nil {
			return nil, fmt.Errorf("kafka.sasl.%w", err)
		}
		if d.sasl, err = mechanism(s.Mechanism, s.Username, pw); err != nil {
			return nil, fmt.Errorf("kafka.sasl: %w", err)
		}
	}
	if tc == nil && d.sasl == nil {
		return nil, nil
	}
	d.transport = &kafka.Transport{
		Dial:     (&net.Dialer{Timeout: dialTimeout}).DialContext,
		ClientID: "cohortline", TLS: tc, SASL: d.sasl,
	}
	return d, nil
}

func mechanism(name, user, pw string) (sasl.Mechanism, error) {
	switch name {
	case MechanismPlain:
		return plain.Mechanism{Username: user, Password: pw}, nil
	case MechanismSCRAMSHA256:
		return scram.Mechanism(scram.SHA256, user, pw)
	case MechanismSCRAMSHA512:
		return scram.Mechanism(scram.SHA512, user, pw)
	}
	return nil, fmt.Errorf("mechanism %q unknown", name) // Validate refused it first
}

// Insecure reports whether server certificates go unchecked
// (kafka.tls.insecure_skip_verify): the caller warns at start.
func (d *Dialer) Insecure() bool { return d != nil && d.insecure }

func (d *Dialer) tlsConfig() *tls.Config {
	if d == nil {
		return nil
	}
	return d.tls
}

// KafkaDialer is a kafka-go Dialer with the TLS and SASL settings: for
// the consumer group, kafka.Conn and the own Fetch client.
func (d *Dialer) KafkaDialer() *kafka.Dialer {
	kd := &kafka.Dialer{ClientID: "cohortline", Timeout: dialTimeout, DualStack: true}
	if d != nil {
		kd.TLS, kd.SASLMechanism = d.tls, d.sasl
	}
	return kd
}

// Transport is the kafka-go RoundTripper of kafka.Client and
// kafka.Writer: nil, kafka-go's default, for plaintext.
func (d *Dialer) Transport() kafka.RoundTripper {
	if d == nil {
		return nil // not a nil *kafka.Transport: kafka-go checks the interface
	}
	return d.transport
}

// String names the security protocol as Kafka does (PLAINTEXT, SSL,
// SASL_PLAINTEXT, SASL_SSL) with the mechanism, for errors and logs that
// say how a connection was made: never a secret.
func (d *Dialer) String() string {
	var b strings.Builder
	switch {
	case d == nil:
		return "PLAINTEXT"
	case d.sasl != nil && d.tls != nil:
		b.WriteString("SASL_SSL")
	case d.sasl != nil:
		b.WriteString("SASL_PLAINTEXT")
	default:
		b.WriteString("SSL")
	}
	if d.sasl != nil {
		b.WriteString(" " + d.sasl.Name())
	}
	if d.tls != nil && len(d.tls.Certificates) > 0 {
		b.WriteString(" with a client certificate")
	}
	return b.String()
}
