package client_test

import (
	"context"
	"crypto/tls"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/internal/redistest"
)

// TestSecurityTLSSmoke: every feature works against a redis-server that only accepts TLS
// (started with --tls-port and a test CA), including the connections the store opens on its own
// (pub/sub, blocking stream reads); a client that does not trust the CA is refused.
func TestSecurityTLSSmoke(t *testing.T) {
	srv, tlsConfig := redistest.StartTLS(t)
	st, err := client.New().WithService("api").WithAdapter(client.Redis(srv.TLSClient(t, tlsConfig))).Build()
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	smokeEveryFeature(t, st)
	smokeEveryFeature(t, st.MustScope("org", "o1"))

	untrusted := redis.NewClient(&redis.Options{Addr: srv.Addr, TLSConfig: tlsConfigWithoutCA(), MaxRetries: -1})
	defer untrusted.Close()
	if err := untrusted.Ping(context.Background()).Err(); err == nil {
		t.Fatal("a client that does not trust the test CA connected")
	}
	plain := redis.NewClient(&redis.Options{Addr: srv.Addr, MaxRetries: -1})
	defer plain.Close()
	if err := plain.Ping(context.Background()).Err(); err == nil {
		t.Fatal("a plain-text client connected to the TLS port")
	}
}

func tlsConfigWithoutCA() *tls.Config {
	return &tls.Config{ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
}
