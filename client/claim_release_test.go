package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/igniter-go/store/internal/redistest"
	"github.com/igniter-go/store/ops"
	"github.com/igniter-go/store/storetest"
)

// tsClaimCase is a claim case recorded from the original (testdata/igniter-ts-golden.json).
type tsClaimCase struct {
	Name     string     `json:"name"`
	Commands [][]string `json:"commands"`
	After    map[string]struct {
		Value string `json:"value"`
		TTL   int    `json:"ttl"`
	} `json:"after"`
}

func loadTSClaimCase(t *testing.T, name string) tsClaimCase {
	t.Helper()
	b, err := os.ReadFile("testdata/igniter-ts-golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Cases []tsClaimCase `json:"cases"`
	}
	if err := json.Unmarshal(b, &file); err != nil {
		t.Fatal(err)
	}
	for _, c := range file.Cases {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("golden case %q not found", name)
	return tsClaimCase{}
}

// TestClaimTSCompatibility: Claim.Once leaves exactly the bytes the original leaves, and
// Claim.Release releases a claim written with the original's exact commands.
func TestClaimTSCompatibility(t *testing.T) {
	srv := redistest.Start(t)
	rdb := srv.Client(t)
	env := newLeaseEnv(t, rdb)
	scoped := env.st.MustScope("organization", "org_1").MustScope("workspace", "ws_2")
	ctx := context.Background()

	for _, c := range []struct {
		golden, key, owner string
		ttl                time.Duration
	}{
		{golden: "claim.once.ttl", key: "job:sync", owner: "worker-1", ttl: 30 * time.Second},
		{golden: "claim.once.nottl", key: "job:2", owner: "w1"},
	} {
		gc := loadTSClaimCase(t, c.golden)
		st := env.st
		if c.golden == "claim.once.ttl" {
			st = scoped
		}
		// Go writes, and the raw bytes are the original's.
		if ok, err := st.Claim.Once(ctx, c.key, c.owner, c.ttl); !ok || err != nil {
			t.Fatalf("%s: Once: %v %v", c.golden, ok, err)
		}
		for redisKey, want := range gc.After {
			if got := rdb.Get(ctx, redisKey).Val(); got != want.Value {
				t.Fatalf("%s: Go stored %q, the original stores %q", c.golden, got, want.Value)
			}
			if ttl := rdb.TTL(ctx, redisKey).Val(); (want.TTL < 0) != (ttl < 0) {
				t.Fatalf("%s: ttl %v, the original's %d", c.golden, ttl, want.TTL)
			}
			rdb.Del(ctx, redisKey)
		}
		// The original writes (its recorded commands, replayed), and Go releases.
		for _, cmd := range gc.Commands {
			args := make([]any, len(cmd))
			for i, a := range cmd {
				args[i] = a
			}
			if err := rdb.Do(ctx, args...).Err(); err != nil {
				t.Fatalf("%s: replay %v: %v", c.golden, cmd, err)
			}
		}
		if ok, err := st.Claim.Release(ctx, c.key, "worker-2"); ok || !ops.HasCode(err, ops.CodeClaimNotOwner) || !errors.Is(err, ops.ErrConflict) {
			t.Fatalf("%s: release by another owner: want STORE_CLAIM_NOT_OWNER, got %v %v", c.golden, ok, err)
		}
		if ok, err := st.Claim.Release(ctx, c.key, c.owner); !ok || err != nil {
			t.Fatalf("%s: release of the original's claim: %v %v", c.golden, ok, err)
		}
		for redisKey := range gc.After {
			if n := rdb.Exists(ctx, redisKey).Val(); n != 0 {
				t.Fatalf("%s: the claim is still there", c.golden)
			}
		}
		if ok, err := st.Claim.Release(ctx, c.key, c.owner); ok || err != nil {
			t.Fatalf("%s: releasing a free claim: want false, nil, got %v %v", c.golden, ok, err)
		}
	}
}

// TestClaimReleaseSendsOneScript: the compare-and-delete is one EVALSHA (EVAL the first time a
// server sees it) on the claim key, with the JSON-encoded owner, and nothing else.
func TestClaimReleaseSendsOneScript(t *testing.T) {
	srv := redistest.Start(t)
	env := newLeaseEnv(t, srv.Client(t))
	ctx := context.Background()
	if ok, err := env.st.Claim.Once(ctx, "j", 42, 0); !ok || err != nil {
		t.Fatal(ok, err)
	}
	stop := srv.Monitor(t)
	if ok, err := env.st.Claim.Release(ctx, "j", 42); !ok || err != nil {
		t.Fatal(ok, err)
	}
	cmds := stop()
	var evals [][]string
	for _, c := range cmds {
		switch c[0] {
		case "evalsha", "eval":
			evals = append(evals, c)
		}
	}
	last := evals[len(evals)-1]
	if len(last) != 5 || last[2] != "1" || last[3] != "igniter:store:api:claim:j" || last[4] != "42" {
		t.Fatalf("release sent %q", cmds)
	}
	if len(evals) > 2 || (len(evals) == 2 && (evals[0][0] != "evalsha" || evals[1][0] != "eval")) {
		t.Fatalf("release sent %q, want EVALSHA (then EVAL once if not cached)", cmds)
	}
}

func TestClaimReleaseInvalidInput(t *testing.T) {
	st := storetest.New(t)
	ctx := context.Background()
	if _, err := st.Claim.Release(ctx, "", "w"); !ops.HasCode(err, ops.CodeKeyRequired) {
		t.Fatalf("empty key: %v", err)
	}
	if _, err := st.Claim.Release(ctx, "k", func() {}); !ops.HasCode(err, ops.CodeSerializationFailed) {
		t.Fatalf("unencodable owner: %v", err)
	}
	// On miniredis too (its Lua runs the same script): owner numbers are JSON, so 7 != "7".
	if ok, err := st.Claim.Once(ctx, "k", 7, time.Minute); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if ok, err := st.Claim.Release(ctx, "k", strconv.Itoa(7)); ok || !ops.HasCode(err, ops.CodeClaimNotOwner) {
		t.Fatalf(`release by "7" of a claim owned by 7: %v %v`, ok, err)
	}
	if ok, err := st.Claim.Release(ctx, "k", 7); !ok || err != nil {
		t.Fatalf("release by 7: %v %v", ok, err)
	}
}

// TestClaimRefusesOwnersThatAreNotValidUTF8: JSON stores every invalid byte as U+FFFD, so
// "node-\xff" and "node-\xfe" would be one owner and either could release the other's claim (the
// G23 review's TestReviewG23ClaimOwnerInvalidUTF8, where Node then took the claim a Go owner
// still held). Once and Release refuse such owners, nested ones too, and send nothing; a real
// U+FFFD and a backslash followed by "ufffd" are ordinary owners.
func TestClaimRefusesOwnersThatAreNotValidUTF8(t *testing.T) {
	st := storetest.New(t)
	ctx := context.Background()
	for _, owner := range []any{"node-\xff", map[string]any{"id": "w\xfe1"}, []string{"ok", "\xc3"}} {
		if ok, err := st.Claim.Once(ctx, "k", owner, time.Minute); ok || !ops.HasCode(err, ops.CodeSerializationFailed) {
			t.Fatalf("Once(%q) = %v, %v; want false, STORE_SERIALIZATION_FAILED", owner, ok, err)
		}
		if ok, err := st.Claim.Release(ctx, "k", owner); ok || !ops.HasCode(err, ops.CodeSerializationFailed) {
			t.Fatalf("Release(%q) = %v, %v; want false, STORE_SERIALIZATION_FAILED", owner, ok, err)
		}
	}
	// Nothing was taken: a valid owner gets the claim, and only it releases it.
	if ok, err := st.Claim.Once(ctx, "k", "node-\ufffd", time.Minute); !ok || err != nil {
		t.Fatalf("Once with a real U+FFFD: %v %v", ok, err)
	}
	if ok, err := st.Claim.Release(ctx, "k", `node-\ufffd`); ok || !ops.HasCode(err, ops.CodeClaimNotOwner) {
		t.Fatalf(`Release by the owner spelled with a backslash: %v %v; want false, STORE_CLAIM_NOT_OWNER`, ok, err)
	}
	if ok, err := st.Claim.Release(ctx, "k", "node-\ufffd"); !ok || err != nil {
		t.Fatalf("Release by the owner: %v %v", ok, err)
	}
}
