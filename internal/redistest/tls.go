package redistest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// StartTLS starts a redis-server that accepts only TLS connections, on a free loopback port
// (Addr), with a server certificate signed by a test CA generated for this test (no openssl
// needed), and requires no client certificate. It returns the server and a client TLS
// configuration that trusts the test CA. It skips like Start when redis-server is missing, and
// fails when the binary was built without TLS.
func StartTLS(t testing.TB, extra ...string) (*Server, *tls.Config) {
	t.Helper()
	bin := Binary()
	if bin == "" {
		Start(t) // skips, or fails under RequireEnv
	}
	dir := t.TempDir()
	caPEM, certPEM, keyPEM := testCertificates(t)
	files := map[string][]byte{"ca.crt": caPEM, "server.crt": certPEM, "server.key": keyPEM}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatalf("redistest: %v", err)
		}
	}
	port := freePort(t)
	s := &Server{Addr: "127.0.0.1:" + strconv.Itoa(port), Port: port, t: t, bin: bin}
	s.args = append([]string{"--port", "0", "--tls-port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--tls-cert-file", filepath.Join(dir, "server.crt"), "--tls-key-file", filepath.Join(dir, "server.key"),
		"--tls-ca-cert-file", filepath.Join(dir, "ca.crt"), "--tls-auth-clients", "no",
		"--save", "", "--appendonly", "no", "--daemonize", "no", "--loglevel", "notice", "--dir", dir}, extra...)
	s.start()
	t.Cleanup(s.Kill)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	return s, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
}

// TLSClient returns a go-redis client for a server started by StartTLS, with go-redis's retries
// off and ctx deadlines honoured (ContextTimeoutEnabled) as the store requires, closed at cleanup.
func (s *Server) TLSClient(t testing.TB, cfg *tls.Config) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: s.Addr, TLSConfig: cfg.Clone(), MaxRetries: -1, ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// testCertificates makes a CA and a server certificate for 127.0.0.1 signed by it, valid for a
// day, as PEM.
func testCertificates(t testing.TB) (caPEM, certPEM, keyPEM []byte) {
	t.Helper()
	must := func(err error) {
		if err != nil {
			t.Fatalf("redistest: test certificates: %v", err)
		}
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(err)
	now := time.Now()
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "redistest CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	must(err)
	caCert, err := x509.ParseCertificate(caDER)
	must(err)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(err)
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &key.PublicKey, caKey)
	must(err)
	keyDER, err := x509.MarshalECPrivateKey(key)
	must(err)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leafDER}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
}
