package netsec

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// TLS is the tls block of a connection (kafka.tls, clickhouse.tls). The
// zero value is plaintext. Errors of Validate and Config name the key
// relative to the block (ca_file), and the caller prefixes its section.
type TLS struct {
	// Enabled turns TLS on. The other keys need it: a ca_file without
	// enabled: true is an error, not a silent plaintext connection.
	Enabled bool `yaml:"enabled"`
	// CAFile is a PEM bundle of the CAs that sign the servers'
	// certificates; default the system's roots.
	CAFile string `yaml:"ca_file"`
	// CertFile and KeyFile are the client's certificate and key (PEM), for
	// servers that require one (mutual TLS); both or neither.
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	// ServerName is the name the server's certificate must carry; default
	// the host of the address dialed.
	ServerName string `yaml:"server_name"`
	// MinVersion is the lowest TLS version accepted: "1.2" (the default)
	// or "1.3".
	MinVersion string `yaml:"min_version"`
	// InsecureSkipVerify accepts any server certificate: for a test
	// against a server whose CA is unavailable, never in production. It
	// is logged as a warning at every start (Insecure).
	InsecureSkipVerify bool `yaml:"insecure_skip_verify"`
}

var tlsVersions = map[string]uint16{"1.2": tls.VersionTLS12, "1.3": tls.VersionTLS13}

// Validate checks the settings without reading the files.
func (t TLS) Validate() error {
	if !t.Enabled {
		for _, k := range []struct{ key, value string }{
			{"ca_file", t.CAFile}, {"cert_file", t.CertFile}, {"key_file", t.KeyFile},
			{"server_name", t.ServerName}, {"min_version", t.MinVersion},
		} {
			if k.value != "" {
				return fmt.Errorf("tls.%s: set, but tls.enabled is false: set tls.enabled: true, or remove it", k.key)
			}
		}
		if t.InsecureSkipVerify {
			return errors.New("tls.insecure_skip_verify: set, but tls.enabled is false")
		}
		return nil
	}
	if _, ok := tlsVersions[t.MinVersion]; t.MinVersion != "" && !ok {
		return fmt.Errorf("tls.min_version: %q, want 1.2 or 1.3", t.MinVersion)
	}
	switch {
	case t.CertFile != "" && t.KeyFile == "":
		return errors.New("tls.key_file: required with tls.cert_file: a client certificate needs its key")
	case t.CertFile == "" && t.KeyFile != "":
		return errors.New("tls.cert_file: required with tls.key_file: a client key needs its certificate")
	}
	return nil
}

// Insecure reports whether certificates go unchecked: the caller logs it
// loudly.
func (t TLS) Insecure() bool { return t.Enabled && t.InsecureSkipVerify }

// Config validates t and builds its *tls.Config: nil when TLS is off. It
// reads the files now, so that an unreadable CA or a certificate that does
// not match its key fails at start, naming the key.
func (t TLS) Config() (*tls.Config, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	if !t.Enabled {
		return nil, nil
	}
	cfg := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		ServerName:         t.ServerName,
		InsecureSkipVerify: t.InsecureSkipVerify,
	}
	if v, ok := tlsVersions[t.MinVersion]; ok {
		cfg.MinVersion = v
	}
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("tls.ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls.ca_file: %s holds no PEM certificate", t.CAFile)
		}
		cfg.RootCAs = pool
	}
	if t.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("tls.key_file: with tls.cert_file %s: %w", t.CertFile, err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}
