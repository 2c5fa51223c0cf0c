package kafkawire

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/cohortline/cohortline/pipeline/pipelinetest"
)

// BenchmarkFetchDecodeTLS is BenchmarkFetchDecode's fetchConn over TLS
// (1.3, AES-GCM, as against a TLS listener) beside the same reads in
// plaintext: whether the decoding stays free of allocations per message
// with a tls.Conn under it, and what the encryption costs per message. A
// TLS terminator in this process stands before the replay proxy; its
// work (decrypting the requests, encrypting the responses) is in the
// figures too, as a broker's would not be, so the difference is an upper
// bound of the client's cost.
//
//	go test -run '^$' -bench FetchDecodeTLS -benchmem -benchtime 2000000x ./pipeline/internal/kafkawire/
func BenchmarkFetchDecodeTLS(b *testing.B) {
	msgs := pipelinetest.BenchMessages(b)[:50_000]
	var size int64
	for _, m := range msgs {
		size += int64(len(m.Key) + len(m.Value))
	}
	cluster, topics := codecCluster(b, "bench-tls-")
	defer cluster.Close()
	proxy := newReplayProxy(b, cluster.ListenAddrs()[0])
	front, client := newTLSFront(b, proxy.addr())
	end := int64(len(msgs))
	for i, c := range testCodecs {
		if c.name != "lz4" && c.name != "none" {
			continue // the codec's cost is BenchmarkFetchDecode's; TLS's is the same on each
		}
		topic := topics[i]
		produceOnce(b, cluster.ListenAddrs()[0], topic, c.codec, msgs)
		b.Run(c.name+"/plaintext", func(b *testing.B) {
			benchReads(b, size/end, end, newFetchConnReader(b, proxy.addr(), topic))
		})
		b.Run(c.name+"/tls", func(b *testing.B) {
			raw, err := net.Dial("tcp", front)
			if err != nil {
				b.Fatal(err)
			}
			conn := tls.Client(raw, client)
			if err := conn.Handshake(); err != nil {
				b.Fatal(err)
			}
			benchReads(b, size/end, end, fetchConnReader(b, conn, topic))
		})
	}
}

// newTLSFront listens with TLS on a loopback port and relays each
// connection to upstream in plaintext; it returns its address and a client
// config that trusts it.
func newTLSFront(tb testing.TB, upstream string) (string, *tls.Config) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "bench"},
		DNSNames: []string{"bench"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				up, err := net.Dial("tcp", upstream)
				if err != nil {
					return
				}
				defer up.Close()
				go io.Copy(up, c)
				io.Copy(c, up)
			}()
		}
	}()
	return ln.Addr().String(), &tls.Config{RootCAs: pool, ServerName: "bench", MinVersion: tls.VersionTLS12}
}
