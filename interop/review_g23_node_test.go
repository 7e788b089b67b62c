package interop_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The adversarial review of G23 drives the Node original with small inline CommonJS scripts
// (written to t.TempDir(), run with NODE_PATH at interop/node/node_modules) instead of changing
// driver.mjs. g23Prelude is what every script starts with: args (argv[2], JSON), an ioredis
// connection, the original's store for service "interop" (store) and its scoped store (scoped),
// and out(obj), which writes one JSON line.
const g23Prelude = `
const Redis = require("ioredis");
const { IgniterStore, IgniterStoreKey } = require("@igniter-js/store");
const { IgniterStoreRedisAdapter } = require("@igniter-js/store/adapters");
const args = JSON.parse(process.argv[2]);
const i = args.addr.lastIndexOf(":");
const redis = new Redis({ host: args.addr.slice(0, i), port: Number(args.addr.slice(i + 1)), lazyConnect: true, maxRetriesPerRequest: 1 });
const adapter = IgniterStoreRedisAdapter.create({ redis });
const out = (o) => process.stdout.write(JSON.stringify(o) + "\n");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const RELEASE = "local v = redis.call('GET', KEYS[1])\nif v == ARGV[1] then return redis.call('DEL', KEYS[1]) end\nif v then return -1 end\nreturn 0";
const claimKey = (key) => IgniterStoreKey.create({ service: "interop", scopeChain: [] }).build("claim", key);
async function main(store, scoped) {
`

const g23Epilogue = `
}
(async () => {
  await redis.connect();
  const store = IgniterStore.create().withAdapter(adapter).withService("interop").build();
  const scoped = store.scope("organization", "acme");
  try { await main(store, scoped); } catch (e) { out({ error: String(e && e.stack || e) }); }
  redis.disconnect();
  adapter.subscriberClient?.disconnect();
  process.exit(0);
})();
`

// g23Node is one running inline Node script: its output lines arrive on lines.
type g23Node struct {
	cmd    *exec.Cmd
	lines  chan json.RawMessage
	stderr *bytes.Buffer
	done   chan struct{}
}

// startG23Node runs body (the inside of an async main(store, scoped)) with args (addr added).
func startG23Node(t *testing.T, bin, addr, body string, args map[string]any) *g23Node {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "script.cjs")
	if err := os.WriteFile(path, []byte(g23Prelude+body+g23Epilogue), 0o644); err != nil {
		t.Fatal(err)
	}
	if args == nil {
		args = map[string]any{}
	}
	args["addr"] = addr
	raw, err := json.Marshal(args)
	if err != nil {
		t.Fatal(err)
	}
	abs, err := filepath.Abs(filepath.Join(nodeDir, "node_modules"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, path, string(raw))
	cmd.Env = append(os.Environ(), "NODE_PATH="+abs)
	n := &g23Node{cmd: cmd, lines: make(chan json.RawMessage, 1<<16), stderr: &bytes.Buffer{}, done: make(chan struct{})}
	var emu sync.Mutex
	cmd.Stderr = lockedWriter{&emu, n.stderr}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 64<<20)
		for sc.Scan() {
			n.lines <- json.RawMessage(bytes.Clone(sc.Bytes()))
		}
		_ = cmd.Wait()
		close(n.lines)
		close(n.done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-n.done
		if t.Failed() {
			emu.Lock()
			if s := n.stderr.String(); s != "" {
				t.Logf("inline node stderr:\n%s", tail(s, 3000))
			}
			emu.Unlock()
		}
	})
	return n
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// next returns the script's next output line, failing t on an {"error"} line, an exit or ctx.
func (n *g23Node) next(ctx context.Context, t *testing.T, out any) {
	t.Helper()
	select {
	case l, ok := <-n.lines:
		if !ok {
			t.Fatalf("inline node exited early")
		}
		if strings.HasPrefix(string(l), `{"error"`) {
			t.Fatalf("inline node: %s", l)
		}
		if out != nil {
			if err := json.Unmarshal(l, out); err != nil {
				t.Fatalf("inline node wrote %s: %v", l, err)
			}
		}
	case <-ctx.Done():
		t.Fatalf("inline node: %v", ctx.Err())
	}
}

// runG23Node runs body to its end and returns its one output line decoded into out.
func runG23Node(t *testing.T, bin, addr, body string, args map[string]any, out any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	startG23Node(t, bin, addr, body, args).next(ctx, t, out)
}
