package interop_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/internal/codec"
	"github.com/igniter-go/store/internal/faultproxy"
	"github.com/igniter-go/store/internal/redistest"
	"github.com/igniter-go/store/middleware/retry"
	"github.com/igniter-go/store/ops"
)

// Node halves of the claim attacks: claim.once of the original, and the documented
// compare-and-delete release (docs/interop.md) with JSON.stringify(owner).
const (
	g23NodeOnce = `
  const ok = await store.claim.once(args.key, args.owner, args.ttl ? { ttl: args.ttl } : undefined);
  out({ ok, stored: await redis.get(claimKey(args.key)) });
`
	g23NodeRelease = `
  out({ r: await redis.eval(RELEASE, 1, claimKey(args.key), JSON.stringify(args.owner)) });
`
)

type g23OnceResult struct {
	OK     bool    `json:"ok"`
	Stored *string `json:"stored"`
}

func g23ClaimKey(key string) string { return "igniter:store:" + service + ":claim:" + key }

// TestReviewG23ClaimOwnerLineSeparator pins a documented difference (docs/interop.md, "Release
// claims with the owner check"): owners must be the same bytes in both languages. An owner
// string holding U+2028 is stored raw by Node and escaped by Go, so neither language can release
// the other's claim: Go's Release of Node's claim is refused (false, STORE_CLAIM_NOT_OWNER) and
// Node's documented release of Go's claim returns -1. The control, the same owner in ASCII,
// releases in both directions. Every claim has a TTL, so nothing stays held.
func TestReviewG23ClaimOwnerLineSeparator(t *testing.T) {
	bin := needNode(t)
	srv := redistest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st := newStore(t, srv)
	raw := srv.Client(t)
	const ttlSeconds = 30 // Node's unit; Go's claims use the same
	for _, tc := range []struct {
		name, owner string
		releases    bool // the documented outcome: the other language releases the claim
	}{
		{"lineSeparator", "worker\u2028eu-1", false},
		{"ascii", "worker-eu-1", true},
	} {
		// Node takes, Go releases with the same owner.
		nodeKey := "ls:node:" + tc.name
		var took g23OnceResult
		runG23Node(t, bin, srv.Addr, g23NodeOnce, map[string]any{"key": nodeKey, "owner": tc.owner, "ttl": ttlSeconds}, &took)
		if !took.OK || took.Stored == nil {
			t.Fatalf("%s: node claim.once did not take a free claim: %+v", tc.name, took)
		}
		ok, err := st.Claim.Release(ctx, nodeKey, tc.owner)
		held := raw.Exists(ctx, g23ClaimKey(nodeKey)).Val() == 1
		t.Logf("%s: Go Release of Node's claim = %v, %v; Node stored %q, Go compares %q; still held: %v",
			tc.name, ok, err, *took.Stored, mustEncode(t, tc.owner), held)
		if tc.releases {
			if !ok || err != nil || held {
				t.Errorf("%s: Go Release(%q) of the claim Node took with the same owner = %v, %v (held after: %v); want true, nil, released",
					tc.name, tc.owner, ok, err, held)
			}
		} else if ok || !errors.Is(err, &ops.Error{Code: ops.CodeClaimNotOwner}) || !held {
			t.Errorf("%s: Go Release(%q) of the claim Node took = %v, %v (held after: %v); want the documented false, "+
				"STORE_CLAIM_NOT_OWNER with the claim still held", tc.name, tc.owner, ok, err, held)
		}

		// Go takes, Node releases with the documented script and JSON.stringify(owner).
		goKey := "ls:go:" + tc.name
		if ok, err := st.Claim.Once(ctx, goKey, tc.owner, ttlSeconds*time.Second); !ok || err != nil {
			t.Fatalf("%s: Go Claim.Once of a free claim: %v, %v", tc.name, ok, err)
		}
		stored := raw.Get(ctx, g23ClaimKey(goKey)).Val()
		var rel struct{ R int }
		runG23Node(t, bin, srv.Addr, g23NodeRelease, map[string]any{"key": goKey, "owner": tc.owner}, &rel)
		t.Logf("%s: Node's release of Go's claim = %d; Go stored %q", tc.name, rel.R, stored)
		want := -1
		if tc.releases {
			want = 1
		}
		if rel.R != want {
			t.Errorf("%s: Node's documented release of the claim Go took with the same owner returned %d, want %d (Go stored %q)",
				tc.name, rel.R, want, stored)
		}
	}
	// Nothing is left held for ever: every claim that survived carries its TTL.
	keys, err := raw.Keys(ctx, g23ClaimKey("ls:*")).Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if ttl := raw.PTTL(ctx, k).Val(); ttl <= 0 {
			t.Errorf("%s is held without a TTL (%v)", k, ttl)
		}
	}
}

// mustEncode is the JSON the Go store writes for v (encoding/json without HTML escaping).
func mustEncode(t *testing.T, v any) string {
	t.Helper()
	b, err := codec.Encode(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestReviewG23ClaimOwnerInvalidUTF8: two different owners that are not valid UTF-8 ("node-\xff"
// and "node-\xfe") would both encode with the "\ufffd" escape and compare equal, so a non-owner
// could release the claim. Claim.Once and Claim.Release refuse such an owner with
// STORE_SERIALIZATION_FAILED and send nothing; a valid owner still works, and Node can then take
// the claim (nobody holds it).
func TestReviewG23ClaimOwnerInvalidUTF8(t *testing.T) {
	bin := needNode(t)
	srv := redistest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p := faultproxy.Start(t, srv.Addr) // counts the commands sent
	st := newStoreAt(t, p.Addr)
	raw := srv.Client(t)
	holder, other := "node-\xff", "node-\xfe" // e.g. owner ids built from raw bytes (hostnames, ids)
	sent := func() int { return p.Count("setnx") + p.Count("set") + p.Count("evalsha") + p.Count("eval") }

	ok, err := st.Claim.Once(ctx, "u8", holder, 0)
	if ok || !errors.Is(err, &ops.Error{Code: ops.CodeSerializationFailed}) {
		t.Errorf("Once(%q) = %v, %v; want false, STORE_SERIALIZATION_FAILED", holder, ok, err)
	}
	if n := raw.Exists(ctx, g23ClaimKey("u8")).Val(); n != 0 {
		t.Errorf("Once(%q) was refused but Redis holds the claim: %q", holder, raw.Get(ctx, g23ClaimKey("u8")).Val())
	}
	ok, err = st.Claim.Release(ctx, "u8", other)
	if ok || !errors.Is(err, &ops.Error{Code: ops.CodeSerializationFailed}) {
		t.Errorf("Release(%q) = %v, %v; want false, STORE_SERIALIZATION_FAILED", other, ok, err)
	}
	t.Logf("Once(%q) and Release(%q) = %v; claim commands sent: %d", holder, other, err, sent())
	if n := sent(); n != 0 {
		t.Errorf("the refused Once and Release sent %d claim commands to Redis, want 0", n)
	}

	// A valid owner still works, both ways.
	if ok, err := st.Claim.Once(ctx, "u8", "node-ok", 0); !ok || err != nil {
		t.Fatalf("Once(valid owner) = %v, %v; want true, nil", ok, err)
	}
	if ok, err := st.Claim.Release(ctx, "u8", "node-ok"); !ok || err != nil {
		t.Errorf("Release(valid owner) = %v, %v; want true, nil", ok, err)
	}
	if n := sent(); n < 2 { // the proxy counts: the zero above is evidence
		t.Errorf("the proxy counted %d claim commands for a valid Once and Release, want at least 2", n)
	}
	// Nobody holds it: Node takes it.
	var took g23OnceResult
	runG23Node(t, bin, srv.Addr, g23NodeOnce, map[string]any{"key": "u8", "owner": "node-svc", "ttl": 30}, &took)
	if !took.OK {
		t.Errorf("Node claim.once could not take the claim nobody holds: %+v", took)
	}
}

// TestReviewG23ClaimExpiryAcrossLanguages: a claim that expired and was taken by the other
// language must refuse the first holder's late release, both ways.
func TestReviewG23ClaimExpiryAcrossLanguages(t *testing.T) {
	bin := needNode(t)
	srv := redistest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st := newStore(t, srv)
	raw := srv.Client(t)

	// Go holds with a TTL; it expires; Node takes it; Go's late release is refused.
	if ok, err := st.Claim.Once(ctx, "exp:1", "go-1", 150*time.Millisecond); !ok || err != nil {
		t.Fatalf("Go Once: %v %v", ok, err)
	}
	g23WaitGone(ctx, t, raw, g23ClaimKey("exp:1"))
	var took g23OnceResult
	runG23Node(t, bin, srv.Addr, g23NodeOnce, map[string]any{"key": "exp:1", "owner": "node-1"}, &took)
	if !took.OK {
		t.Fatalf("Node did not take the expired claim: %+v", took)
	}
	ok, err := st.Claim.Release(ctx, "exp:1", "go-1")
	if ok || !errors.Is(err, &ops.Error{Code: ops.CodeClaimNotOwner}) {
		t.Errorf("Go's late release of a claim Node now holds = %v, %v; want false, STORE_CLAIM_NOT_OWNER", ok, err)
	}
	if v := raw.Get(ctx, g23ClaimKey("exp:1")).Val(); v != `"node-1"` {
		t.Errorf("Node's claim after Go's late release: %q", v)
	}

	// Node holds with a TTL (seconds, the original's unit); it expires; Go takes it; Node's late
	// release is refused.
	runG23Node(t, bin, srv.Addr, g23NodeOnce, map[string]any{"key": "exp:2", "owner": "node-2", "ttl": 1}, &took)
	if !took.OK {
		t.Fatalf("Node once: %+v", took)
	}
	g23WaitGone(ctx, t, raw, g23ClaimKey("exp:2"))
	if ok, err := st.Claim.Once(ctx, "exp:2", "go-2", 0); !ok || err != nil {
		t.Fatalf("Go did not take the expired claim: %v %v", ok, err)
	}
	var rel struct{ R int }
	runG23Node(t, bin, srv.Addr, g23NodeRelease, map[string]any{"key": "exp:2", "owner": "node-2"}, &rel)
	if rel.R != -1 {
		t.Errorf("Node's late release of a claim Go now holds returned %d, want -1", rel.R)
	}
	if ok, err := st.Claim.Release(ctx, "exp:2", "go-2"); !ok || err != nil {
		t.Errorf("Go's release of its own claim: %v %v", ok, err)
	}
}

// g23WaitGone waits until key no longer exists (it expired), polling: expiry has no signal.
func g23WaitGone(ctx context.Context, t *testing.T, raw *redis.Client, key string) {
	t.Helper()
	for {
		n, err := raw.Exists(ctx, key).Result()
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s did not expire", key)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// TestReviewG23ClaimOnceLostReply: Go's SET NX runs but its reply is lost. Go must not report
// "not acquired" (false, nil) while it holds the claim, must not have sent it twice, and Node must
// see it held; Go's release with the same owner then frees it for Node. The same for a release
// whose reply is lost: the outcome is unknown, never "released" when it was not.
func TestReviewG23ClaimOnceLostReply(t *testing.T) {
	bin := needNode(t)
	srv := redistest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p := faultproxy.Start(t, srv.Addr)
	st := newStoreAt(t, p.Addr)
	raw := srv.Client(t)

	for _, tc := range []struct {
		cmd string
		ttl time.Duration
	}{{"setnx", 0}, {"set", 30 * time.Second}} {
		key := "lost:" + tc.cmd
		fired := p.DropReplyTo(tc.cmd)
		ok, err := st.Claim.Once(ctx, key, "go-1", tc.ttl)
		select {
		case <-fired:
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: the proxy did not drop the reply (Once = %v, %v)", tc.cmd, ok, err)
		}
		if !errors.Is(err, &ops.Error{Code: ops.CodeOutcomeUnknown}) {
			t.Errorf("%s: Once with a lost reply = %v, %v; want STORE_OUTCOME_UNKNOWN (Redis holds %q)",
				tc.cmd, ok, err, raw.Get(ctx, g23ClaimKey(key)).Val())
		}
		if n := p.Count(tc.cmd); n != 1 {
			t.Errorf("%s sent %d times", tc.cmd, n)
		}
		var took g23OnceResult
		runG23Node(t, bin, srv.Addr, g23NodeOnce, map[string]any{"key": key, "owner": "node-1"}, &took)
		if took.OK {
			t.Errorf("%s: Node took the claim Go's lost-reply Once wrote: two holders", tc.cmd)
		}
		if ok, err := st.Claim.Release(ctx, key, "go-1"); !ok || err != nil {
			t.Errorf("%s: Go release after the unknown outcome: %v %v", tc.cmd, ok, err)
		}
		runG23Node(t, bin, srv.Addr, g23NodeOnce, map[string]any{"key": key, "owner": "node-1"}, &took)
		if !took.OK {
			t.Errorf("%s: Node could not take the claim after Go released it", tc.cmd)
		}
	}

	// A release whose reply is lost: the claim is gone, and the call must not say "not released".
	if ok, err := st.Claim.Once(ctx, "lost:rel", "go-1", 0); !ok || err != nil {
		t.Fatalf("Once: %v %v", ok, err)
	}
	before := p.Count("evalsha") + p.Count("eval")
	fired := p.DropReplyTo("evalsha")
	ok, err := st.Claim.Release(ctx, "lost:rel", "go-1")
	select {
	case <-fired:
		if !errors.Is(err, &ops.Error{Code: ops.CodeOutcomeUnknown}) {
			t.Errorf("Release with a lost reply = %v, %v; want STORE_OUTCOME_UNKNOWN", ok, err)
		}
	case <-time.After(2 * time.Second):
		p.Disarm()
		t.Logf("release went as EVAL (script not cached yet): %v %v", ok, err)
	}
	if after := p.Count("evalsha") + p.Count("eval"); after-before > 2 {
		t.Errorf("release sent %d script commands", after-before)
	}
}

// TestReviewG23ClaimOnceIdempotentRetry: retry.Idempotent(ctx) must not make Claim.Once
// retryable (ops.KindClaimOnce is not Repeatable): a retried SETNX after a lost reply would find
// the caller's own claim and report "not acquired" while it holds it. With the mark and a lost
// reply, Once returns STORE_OUTCOME_UNKNOWN after one SETNX, Redis holds the claim for this owner
// (so the caller may hold it and can release it), and Go's Release with the same owner frees it
// for Node.
func TestReviewG23ClaimOnceIdempotentRetry(t *testing.T) {
	bin := needNode(t)
	srv := redistest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p := faultproxy.Start(t, srv.Addr)
	st := newStoreAt(t, p.Addr)
	raw := srv.Client(t)

	fired := p.DropReplyTo("setnx")
	ok, err := st.Claim.Once(retry.Idempotent(ctx), "idem", "go-1", 0)
	select {
	case <-fired:
	case <-time.After(5 * time.Second):
		t.Fatalf("the proxy did not drop the reply (Once = %v, %v)", ok, err)
	}
	held := raw.Get(ctx, g23ClaimKey("idem")).Val()
	sent := p.Count("setnx")
	t.Logf("Once = %v, %v; SETNX sent %d times; Redis holds %q", ok, err, sent, held)
	if ok || !errors.Is(err, &ops.Error{Code: ops.CodeOutcomeUnknown}) {
		t.Errorf("Claim.Once(retry.Idempotent) with a lost reply = %v, %v; want false, STORE_OUTCOME_UNKNOWN", ok, err)
	}
	if sent != 1 {
		t.Errorf("SETNX sent %d times, want 1 (the ctx mark must not make claim.once retryable)", sent)
	}
	if held != `"go-1"` {
		t.Errorf("Redis holds %q, want the claim of this owner %q", held, `"go-1"`)
	}
	var took g23OnceResult
	runG23Node(t, bin, srv.Addr, g23NodeOnce, map[string]any{"key": "idem", "owner": "node-1"}, &took)
	if took.OK {
		t.Errorf("Node took the claim Go's unknown-outcome Once wrote: two holders")
	}
	if ok, err := st.Claim.Release(ctx, "idem", "go-1"); !ok || err != nil {
		t.Errorf("Go Release after the unknown outcome = %v, %v; want true, nil", ok, err)
	}
	runG23Node(t, bin, srv.Addr, g23NodeOnce, map[string]any{"key": "idem", "owner": "node-1", "ttl": 30}, &took)
	if !took.OK {
		t.Errorf("Node could not take the claim after Go released it")
	}
}
