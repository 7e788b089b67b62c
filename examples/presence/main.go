// Command presence tracks who is online in a workspace with expiring keys and heartbeats.
//
// The original's recipe sets online:<user> = true for 300 s and checks one user with exists.
// User ids are not tenant-scoped (alice of one customer is online for every customer), TTLs
// are whole seconds, a heartbeat rewrites the value, and showing a friend list costs one round
// trip per friend. Here presence lives in the workspace's scope, carries a typed status, a
// heartbeat only refreshes the TTL (KV.Touch: EXPIRE, no rewrite), sub-second TTLs work, and a
// whole friend list is read with one MGET (client.BatchGet).
//
//	go run ./examples/presence              # embedded miniredis
//	go run ./examples/presence -redis ADDR  # a real Redis
package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/examples/internal/harness"
)

func main() { harness.Main(run) }

// Status is what a user's presence key holds.
type Status struct {
	Device string `json:"device"`
}

// ttl is how long a user stays online without a heartbeat; heartbeats come every ttl/3.
const ttl = 600 * time.Millisecond

func key(user string) string { return "online:" + user }

func connect(ctx context.Context, ws *client.Store, user, device string) error {
	return ws.KV.Set(ctx, key(user), Status{Device: device}, ttl)
}

func heartbeat(ctx context.Context, ws *client.Store, user string) error {
	return ws.KV.Touch(ctx, key(user), ttl)
}

// online returns, in one MGET, which of users are online and on which device.
func online(ctx context.Context, ws *client.Store, users ...string) ([]string, error) {
	keys := make([]string, len(users))
	for i, u := range users {
		keys[i] = key(u)
	}
	items, err := client.BatchGetAs[Status](ctx, ws.Batch, keys...)
	if err != nil {
		return nil, err
	}
	var out []string
	for i, it := range items {
		if it.Found {
			out = append(out, users[i]+"@"+it.Value.Device)
		}
	}
	return out, nil
}

func run(ctx context.Context, env *harness.Env, out io.Writer) error {
	st, err := env.Store(client.New().WithService("social").AddScope("workspace", client.Required()))
	if err != nil {
		return err
	}
	acme, globex := st.MustScope("workspace", "acme"), st.MustScope("workspace", "globex")
	friends := []string{"alice", "bob", "carol"}

	for _, u := range []struct{ name, device string }{{"alice", "web"}, {"bob", "ios"}} {
		if err := connect(ctx, acme, u.name, u.device); err != nil {
			return err
		}
	}
	now, err := online(ctx, acme, friends...)
	if err != nil {
		return err
	}
	other, err := online(ctx, globex, friends...)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "acme online: %s; globex online: %d\n", strings.Join(now, " "), len(other))

	// alice keeps heartbeating; bob's app is closed.
	deadline := time.Now().Add(ttl + ttl/2)
	for time.Now().Before(deadline) {
		if err := heartbeat(ctx, acme, "alice"); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(ttl / 3):
		}
	}
	now, err = online(ctx, acme, friends...)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "after %v without bob's heartbeat: %s\n", ttl+ttl/2, strings.Join(now, " "))
	return nil
}
