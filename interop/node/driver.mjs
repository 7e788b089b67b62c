// The Node half of interop/: the real @igniter-js/store@0.1.26 (ioredis adapter, zod schemas),
// driven by the Go tests of package interop as a child process.
//
//	node driver.mjs --addr 127.0.0.1:6379
//
// Protocol: one JSON command per line on stdin, {"id":n,"cmd":"…",…}; every line on stdout is
// {"id":n,"result":…} (the command finished), {"id":n,"error":"…"} (it failed) or
// {"id":n,"event":…} (a long-running command's progress: consumed entries, received events).
// Commands run concurrently; the process exits when stdin closes. The Go tests check the data,
// from what this process reports (so there is one checker); only the claims loop reports what it
// found wrong in Redis while it held a claim, as it happens.
//
// Each command names the store it runs on: "service" (default "interop") and optionally "scope"
// ([key, id]). Stores share this process's one ioredis connection and the adapter's subscriber
// connection, as one Node service does. A command that blocks (consume) belongs in a process of
// its own: the original runs XREADGROUP BLOCK on its only command connection.

import { createInterface } from "node:readline";
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import Redis from "ioredis";
import { z } from "zod";
import { IgniterStore, IgniterStoreEvents, IgniterStoreKey } from "@igniter-js/store";
import { IgniterStoreRedisAdapter } from "@igniter-js/store/adapters";

const opts = parseArgs(process.argv.slice(2));
const [host, port] = splitAddr(opts.addr ?? "127.0.0.1:6379");

// The events both languages define: billing:invoice_paid (published by Node, received by Go) and
// billing:invoice_refunded (published by Go, received here); the Go tests hold the same contract
// as a JSON Schema. Validation is on in both phases, and an invalid message throws: with the
// original that is an unhandled rejection, which ends this process, which fails the Go test.
const line = z.object({ sku: z.string(), qty: z.number().int().positive(), price: z.number() });
const invoice = z.object({
  invoiceId: z.string(),
  from: z.enum(["node", "go"]),
  seq: z.number().int().nonnegative(),
  total: z.number(),
  currency: z.enum(["EUR", "USD", "BRL"]),
  lines: z.array(line).min(1),
  customer: z.object({ id: z.string(), name: z.string(), email: z.string().email() }),
  paid: z.boolean(),
  note: z.string().nullable(),
});
const Billing = IgniterStoreEvents.create("billing").event("invoice_paid", invoice).event("invoice_refunded", invoice).build();

const redis = new Redis({ host, port, lazyConnect: true, maxRetriesPerRequest: 1 });
await redis.connect();
const adapter = IgniterStoreRedisAdapter.create({ redis });
const base = IgniterStore.create()
  .withAdapter(adapter)
  .addEvents(Billing, { validatePublish: true, validateSubscribe: true, throwOnValidationError: true });

const stores = new Map();
function storeFor(cmd) {
  const service = cmd.service ?? "interop";
  const k = JSON.stringify([service, cmd.scope ?? null]);
  let s = stores.get(k);
  if (!s) {
    s = base.withService(service).build();
    if (cmd.scope) s = s.scope(cmd.scope[0], cmd.scope[1]);
    stores.set(k, s);
  }
  return s;
}

// The payloads, generated the same way by the Go tests (payload_test.go): a change here needs the
// same change there, or every comparison fails.
function entryPayload(src, seq) {
  return {
    src,
    seq,
    text: `entry ${seq} from ${src}: café ✓ 🚀 "q" \\ <b>&</b> \u2028\u2029 end`,
    amount: seq * 0.25 + 0.1,
    big: 9007199254740991 - seq,
    tags: [src, `t${seq % 7}`],
    nested: { seq, even: seq % 2 === 0, ratio: seq / 3 },
    ok: seq % 3 !== 0,
    none: null,
  };
}

function invoicePayload(from, seq) {
  return {
    invoiceId: `inv_${from}_${seq}`,
    from,
    seq,
    total: seq / 4 + 0.99,
    currency: ["EUR", "USD", "BRL"][seq % 3],
    lines: [
      { sku: `sku-${seq % 97}`, qty: 1 + (seq % 5), price: 9.99 },
      { sku: "fee", qty: 1, price: 0.5 },
    ],
    customer: { id: `c_${seq % 1000}`, name: 'Zoë Ñúñez — 日本 🚀 "VIP" <b>', email: `c${seq % 1000}@example.com` },
    paid: seq % 2 === 0,
    note: seq % 4 === 0 ? null : `note ${seq} \\ tab\t end`,
  };
}

// What a Node service runs to release a claim: the original has no release (its README's
// kv.remove deletes a different key), so this is the compare-and-delete the Go store's
// Claim.Release runs, on the key the original's own key builder gives.
const RELEASE = `
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then return redis.call('DEL', KEYS[1]) end
if v then return -1 end
return 0`;
function claimKey(service, key) {
  return IgniterStoreKey.create({ service, scopeChain: [] }).build("claim", key);
}

// --- stdout: one JSON line per message, written in batches so a fast stream does not make a
// write per line.
let out = [];
let flushing = false;
function send(obj) {
  out.push(JSON.stringify(obj));
  if (!flushing) {
    flushing = true;
    setImmediate(flush);
  }
}
function flush() {
  flushing = false;
  if (out.length === 0) return;
  const chunk = out.join("\n") + "\n";
  out = [];
  process.stdout.write(chunk);
}

const running = new Map(); // id → {stop()} of long-running commands

const commands = {
  async hello() {
    return { node: process.version, store: version("@igniter-js/store"), ioredis: version("ioredis"), zod: version("zod") };
  },

  // KV and batch, for the small checks.
  async "kv.set"(c) {
    await storeFor(c).kv.set(c.key, c.value, c.ttl ? { ttl: c.ttl } : undefined);
    return true;
  },
  async "kv.get"(c) {
    const value = await storeFor(c).kv.get(c.key);
    return { value, negativeZero: Object.is(value, -0) };
  },
  async "kv.rewrite"(c) {
    // Read a value and write it back unchanged, as a Node service passing data through does.
    const s = storeFor(c);
    await s.kv.set(c.key, await s.kv.get(c.key));
    return true;
  },
  async "batch.get"(c) {
    return { values: await storeFor(c).batch.get(c.keys) };
  },
  async "counter.get"(c) {
    // The original has no counter read; a Node service reads the key with its client.
    const v = await redis.get(IgniterStoreKey.create({ service: c.service ?? "interop", scopeChain: [] }).build("counter", c.key));
    return { value: v === null ? null : Number(v) };
  },
  async publish(c) {
    const s = storeFor(c);
    for (const data of c.samples) await s.events.publish(c.event, data);
    return { published: c.samples.length };
  },

  // Streams: append count entries of entryPayload(src, seq) for seq in [from, from+count), with
  // concurrency callers on the one connection.
  async produce(c) {
    const s = storeFor(c);
    const start = c.from ?? 0;
    let next = start;
    const t0 = performance.now();
    const loop = async () => {
      while (next < start + c.count) {
        const seq = next++;
        await s.streams.append(c.stream, entryPayload(c.src, seq));
      }
    };
    await Promise.all(Array.from({ length: c.concurrency ?? 16 }, loop));
    return { appended: c.count, ms: performance.now() - t0 };
  },

  // A consumer of a group: read (XREADGROUP … >), report, ack, until stopped. With crashAfter,
  // once it has handled that many entries it handles one more batch, reports it, and does not
  // ack it: it reports {crash, held} and waits to be killed (SIGKILL from the test), as a
  // process that dies between its work and its ack.
  async consume(c, id) {
    const g = storeFor(c).streams.group(c.group, c.consumer);
    await g.ensure(c.stream, { startId: "0" });
    let stopped = false;
    running.set(id, { stop: () => (stopped = true) });
    let handled = 0;
    send({ id, event: { ready: true } });
    while (!stopped) {
      const batch = await g.read(c.stream, { count: c.count ?? 100, blockMs: c.blockMs ?? 100 });
      if (batch.length === 0) continue;
      handled += batch.length;
      send({ id, event: { h: batch.map((m) => [m.id, m.message]) } });
      const ids = batch.map((m) => m.id);
      if (c.crashAfter && handled >= c.crashAfter) {
        send({ id, event: { crash: true, held: ids, at: Date.now() } });
        flush();
        await new Promise(() => {}); // killed here
      }
      await g.ack(c.stream, ids);
    }
    running.delete(id);
    return { handled };
  },

  // Claims: `owners` workers contend for `keys` for `ms` milliseconds. A holder marks a side key
  // (SET NX: it must be free), checks it twice across round trips, clears it (compare-and-delete:
  // it must still be its own), then releases the claim, which must succeed. A worker that loses
  // tries, now and then, to release the claim with its own owner: that must never delete it.
  async claims(c) {
    const s = storeFor(c);
    const service = c.service ?? "interop";
    const stats = { acquired: 0, contended: 0, violations: [], foreignRefused: 0, handovers: 0, released: 0 };
    const deadline = performance.now() + c.ms;
    const worker = async (w) => {
      const owner = `node-${c.name ?? "p"}-${w}`;
      let i = 0;
      while (performance.now() < deadline) {
        i++;
        const key = c.keys[(Math.random() * c.keys.length) | 0];
        const ttl = i % 2 === 0 ? { ttl: 30 } : undefined;
        const side = `interop:side:${key}`;
        if (await s.claim.once(key, owner, ttl)) {
          stats.acquired++;
          const prev = await redis.getset(`interop:last:${key}`, owner);
          if (prev !== null && prev.startsWith("go-")) stats.handovers++;
          if ((await redis.set(side, owner, "NX")) !== "OK") stats.violations.push(`${owner} holds ${key} but the side key is ${await redis.get(side)}`);
          for (let j = 0; j < 2; j++) {
            const v = await redis.get(side);
            if (v !== owner) stats.violations.push(`${owner} holds ${key} but the side key became ${v}`);
          }
          if ((await redis.eval(RELEASE, 1, side, owner)) !== 1) stats.violations.push(`${owner} lost its side key of ${key}`);
          const r = await redis.eval(RELEASE, 1, claimKey(service, key), JSON.stringify(owner));
          if (r !== 1) stats.violations.push(`${owner}'s release of ${key} returned ${r}`);
          else stats.released++;
        } else {
          stats.contended++;
          if (i % 4 === 0) {
            const r = await redis.eval(RELEASE, 1, claimKey(service, key), JSON.stringify(owner));
            if (r === 1) stats.violations.push(`${owner} released ${key}, which it did not hold`);
            else stats.foreignRefused++;
          }
        }
      }
    };
    await Promise.all(Array.from({ length: c.owners }, (_, w) => worker(w)));
    return stats;
  },

  // Counters: n increments of each key in inc (every returned value reported), and n changes of
  // mixed (increment, increment, decrement, …), with concurrency callers.
  async counters(c) {
    const s = storeFor(c);
    const values = Object.fromEntries(c.inc.map((k) => [k, []]));
    let mixedDelta = 0;
    const jobs = [];
    for (const k of c.inc) for (let i = 0; i < c.n; i++) jobs.push(["inc", k, i]);
    for (let i = 0; i < c.n; i++) jobs.push(["mixed", c.mixed, i]);
    jobs.sort(() => Math.random() - 0.5);
    let next = 0;
    const loop = async () => {
      while (next < jobs.length) {
        const [kind, k, i] = jobs[next++];
        if (kind === "inc") values[k].push(await s.counter.increment(k));
        else if (i % 3 === 2) {
          await s.counter.decrement(k);
          mixedDelta--;
        } else {
          await s.counter.increment(k);
          mixedDelta++;
        }
      }
    };
    await Promise.all(Array.from({ length: c.concurrency ?? 16 }, loop));
    return { values, mixedDelta };
  },

  // Batches: `rounds` batch.set calls of all `keys` ({writer:"node", round, key, data}), while a
  // reader batch.gets readKeys over and over; every read is reported as its writer:round tags.
  async batches(c, id) {
    const s = storeFor(c);
    send({ id, event: { started: true } });
    let writing = true;
    const reads = [];
    const reader = async () => {
      while (writing) {
        const vs = await s.batch.get(c.readKeys);
        reads.push(vs.map((v) => (v === null ? null : `${v.writer}:${v.round}`)));
      }
    };
    const writer = async () => {
      for (let r = 1; r <= c.rounds; r++) {
        await s.batch.set(c.keys.map((key) => ({ key, value: { writer: "node", round: r, key, data: entryPayload("node", r) } })));
      }
      writing = false;
    };
    await Promise.all([reader(), writer()]);
    return { reads };
  },

  // Events: subscribe to event and report every envelope received, in batches, until stopped;
  // the result has the process's CPU time over the subscription.
  async subscribe(c, id) {
    const s = storeFor(c);
    const cpu0 = process.cpuUsage();
    let received = 0;
    let batch = [];
    const tick = setInterval(() => {
      if (batch.length) {
        send({ id, event: { ev: batch } });
        batch = [];
      }
    }, 20);
    let done;
    const finished = new Promise((resolve) => (done = resolve));
    const off = await s.events.subscribe(c.event, (ctx) => {
      received++;
      batch.push(ctx);
    });
    running.set(id, {
      stop: async () => {
        await off();
        clearInterval(tick);
        if (batch.length) send({ id, event: { ev: batch } });
        batch = [];
        done();
      },
    });
    send({ id, event: { subscribed: true } });
    await finished;
    running.delete(id);
    return { received, cpuUs: cpuUs(cpu0) };
  },

  // Publish invoicePayload(from, seq) for seq = 0, 1, … as event at `rate` per second, until
  // count are published or ms have passed: each 10 ms tick publishes what the rate owes by then
  // (at most 50 ms worth: a process that falls behind does not catch up in one burst),
  // concurrently on the one connection, and waits for those publishes.
  async publishRate(c) {
    const s = storeFor(c);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    let seq = 0;
    while (seq < c.count && performance.now() - t0 < c.ms) {
      const owed = Math.min(c.count - seq, Math.ceil(((performance.now() - t0) / 1000) * c.rate) - seq, Math.ceil(c.rate / 20));
      const ps = [];
      for (let i = 0; i < owed; i++) ps.push(s.events.publish(c.event, invoicePayload(c.from, seq++)));
      await Promise.all(ps);
      await sleep(10);
    }
    return { published: seq, ms: performance.now() - t0, cpuUs: cpuUs(cpu0) };
  },

  async stop(c) {
    const r = running.get(c.target);
    if (r) await r.stop();
    return true;
  },
};

const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
const inflight = new Set();
for await (const text of rl) {
  if (!text.trim()) continue;
  let c;
  try {
    c = JSON.parse(text);
  } catch (err) {
    send({ id: 0, error: `bad command: ${err.message}` });
    continue;
  }
  const f = commands[c.cmd];
  const p = (async () => {
    try {
      if (!f) throw new Error(`unknown command ${c.cmd}`);
      send({ id: c.id, result: await f(c, c.id) });
    } catch (err) {
      send({ id: c.id, error: `${err?.code ?? err?.name ?? "Error"}: ${err?.message ?? err}` });
    }
  })();
  inflight.add(p);
  p.finally(() => inflight.delete(p));
}
for (const r of running.values()) await r.stop();
await Promise.all(inflight);
flush();
redis.disconnect();
adapter.subscriberClient?.disconnect(); // the adapter's own pub/sub connection: it has no close
process.exit(0);

// cpuUs returns the process's CPU time (user and system) since cpu0, in microseconds.
function cpuUs(cpu0) {
  const d = process.cpuUsage(cpu0);
  return d.user + d.system;
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function version(pkg) {
  try {
    const url = new URL(`./node_modules/${pkg}/package.json`, import.meta.url);
    return JSON.parse(readFileSync(url, "utf8")).version;
  } catch {
    return "?";
  }
}

// parseArgs reads --name value pairs; a --name followed by another --flag (or nothing) is true.
function parseArgs(argv) {
  const o = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith("--")) throw new Error(`unexpected argument ${a}`);
    if (i + 1 < argv.length && !argv[i + 1].startsWith("--")) o[a.slice(2)] = argv[++i];
    else o[a.slice(2)] = true;
  }
  return o;
}

function splitAddr(addr) {
  const i = addr.lastIndexOf(":");
  return [addr.slice(0, i), Number(addr.slice(i + 1))];
}
