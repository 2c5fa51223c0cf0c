package netsec

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// certFiles writes a self-signed certificate and its key, and a second
// key that does not match it, as PEM files.
func certFiles(t *testing.T) (cert, key, otherKey string) {
	t.Helper()
	dir := t.TempDir()
	writeKey := func(name string) (*ecdsa.PrivateKey, string) {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return k, path
	}
	k, key := writeKey("client.key")
	_, otherKey = writeKey("other.key")
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	cert = filepath.Join(dir, "client.pem")
	if err := os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return cert, key, otherKey
}

func TestTLSConfig(t *testing.T) {
	cert, key, otherKey := certFiles(t)
	notPEM := filepath.Join(t.TempDir(), "ca.txt")
	os.WriteFile(notPEM, []byte("not a certificate\n"), 0o600)
	for _, c := range []struct {
		name string
		tls  TLS
		want string // in the error; "" for none
	}{
		{"off", TLS{}, ""},
		{"system roots", TLS{Enabled: true}, ""},
		{"CA and client certificate", TLS{Enabled: true, CAFile: cert, CertFile: cert, KeyFile: key, ServerName: "kafka-1", MinVersion: "1.3"}, ""},
		{"a key without enabled", TLS{CAFile: cert}, "tls.ca_file: set, but tls.enabled is false"},
		{"skip verify without enabled", TLS{InsecureSkipVerify: true}, "tls.insecure_skip_verify: set, but tls.enabled is false"},
		{"unreadable CA", TLS{Enabled: true, CAFile: "/nonexistent/ca.pem"}, "tls.ca_file: open /nonexistent/ca.pem: no such file"},
		{"CA not PEM", TLS{Enabled: true, CAFile: notPEM}, "tls.ca_file: " + notPEM + " holds no PEM certificate"},
		{"certificate without key", TLS{Enabled: true, CertFile: cert}, "tls.key_file: required with tls.cert_file"},
		{"key without certificate", TLS{Enabled: true, KeyFile: key}, "tls.cert_file: required with tls.key_file"},
		{"certificate and another key", TLS{Enabled: true, CertFile: cert, KeyFile: otherKey}, "tls.key_file: with tls.cert_file " + cert + ": tls: private key does not match public key"},
		{"unknown version", TLS{Enabled: true, MinVersion: "1.1"}, `tls.min_version: "1.1", want 1.2 or 1.3`},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := c.tls.Config()
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("Config() = %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("Config() = %v, want an error with %q", err, c.want)
			case c.want != "":
				return
			}
			if (cfg != nil) != c.tls.Enabled {
				t.Fatalf("Config() = %v for enabled=%v", cfg, c.tls.Enabled)
			}
			if cfg == nil {
				return
			}
			if cfg.MinVersion < tls.VersionTLS12 || cfg.ServerName != c.tls.ServerName || cfg.InsecureSkipVerify {
				t.Errorf("Config() = min %x, server %q, insecure %v", cfg.MinVersion, cfg.ServerName, cfg.InsecureSkipVerify)
			}
			if c.tls.MinVersion == "1.3" && cfg.MinVersion != tls.VersionTLS13 {
				t.Errorf("min_version 1.3 gave %x", cfg.MinVersion)
			}
			if (c.tls.CAFile != "") != (cfg.RootCAs != nil) || (c.tls.CertFile != "") != (len(cfg.Certificates) == 1) {
				t.Errorf("Config() roots %v, %d certificates", cfg.RootCAs != nil, len(cfg.Certificates))
			}
		})
	}
	if !(TLS{Enabled: true, InsecureSkipVerify: true}).Insecure() || (TLS{InsecureSkipVerify: true}).Insecure() {
		t.Error("Insecure() does not follow enabled and insecure_skip_verify")
	}
}

func TestSecret(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "pw")
	os.WriteFile(file, []byte("s3cret\n"), 0o600)
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, []byte("\n"), 0o600)
	env := map[string]string{"PW": "from-env"}
	for _, c := range []struct {
		name   string
		secret Secret
		want   string // the password, or the error's text
		err    bool
	}{
		{"none", Secret{}, "", false},
		{"environment", Secret{PasswordEnv: "PW"}, "from-env", false},
		{"file, newline dropped", Secret{PasswordFile: file}, "s3cret", false},
		{"inline", Secret{Password: "inline-pw"}, "password: a password is never written in the config file", true},
		{"both", Secret{PasswordEnv: "PW", PasswordFile: file}, "password_env, password_file: set one of them, not both", true},
		{"unset variable", Secret{PasswordEnv: "NOPE"}, "password_env: the environment variable NOPE is not set or empty", true},
		{"missing file", Secret{PasswordFile: filepath.Join(dir, "nope")}, "password_file: open", true},
		{"empty file", Secret{PasswordFile: empty}, "password_file: " + empty + " is empty", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			pw, err := c.secret.Read(func(k string) string { return env[k] })
			if c.err {
				if err == nil || !strings.Contains(err.Error(), c.want) {
					t.Fatalf("Read() = %q, %v; want an error with %q", pw, err, c.want)
				}
				if strings.Contains(err.Error(), "inline-pw") {
					t.Errorf("the error carries the password: %v", err)
				}
				return
			}
			if err != nil || pw != c.want {
				t.Fatalf("Read() = %q, %v; want %q", pw, err, c.want)
			}
		})
	}
}
