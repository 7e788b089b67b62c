// The Node original, @igniter-js/store with its ioredis adapter, as one client of bench/compare.
//
// N callers are N closed async loops (await store.kv.get / store.kv.set, then the next) sharing
// one ioredis connection, which is how the original is used. Keys are the store's kv keys
// "<prefix><i>" of service <service>, which the Go harness seeds with JSON string values.
//
// One cell, one JSON line on stdout:
//
//	node bench.mjs --addr 127.0.0.1:6379 --callers 16 --load get --duration 1s --warmup 0.2s
//
// Serve mode (what bench/compare uses): connect, warm up once, print {"ready":true,...}, then
// answer each JSON line on stdin ({"load","callers","duration_ms","warmup_ms"}) with one JSON
// line of results; exit when stdin closes. Start-up and most JIT warm-up stay out of the cells.
//
//	node bench.mjs --addr 127.0.0.1:6379 --serve [--autopipeline]
//
// Results: ops (per second), p50_us, p99_us, cpu_us_per_op (process.cpuUsage() of this process,
// user + system, over the measured window, divided by the ops in it), count, errors, elapsed_ms.

import { createInterface } from "node:readline";
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import Redis from "ioredis";
import { IgniterStore } from "@igniter-js/store";
import { IgniterStoreRedisAdapter } from "@igniter-js/store/adapters";

const opts = parseArgs(process.argv.slice(2));
const [host, port] = splitAddr(opts.addr ?? "127.0.0.1:6379");
const nkeys = Number(opts.keys ?? 10000);
const size = Number(opts.size ?? 100);
const service = opts.service ?? "bench";
const prefix = opts["key-prefix"] ?? "bench:";
const autopipeline = opts.autopipeline === true;

const keys = Array.from({ length: nkeys }, (_, i) => prefix + i);
const value = "v".repeat(size);

const redis = new Redis({ host, port, enableAutoPipelining: autopipeline, lazyConnect: true });
await redis.connect();
const adapter = IgniterStoreRedisAdapter.create({ redis });
const store = IgniterStore.create().withAdapter(adapter).withService(service).build();

if (opts.serve) {
  await runCell({ load: "mix", callers: 16, durationMs: 300, warmupMs: 100 }); // JIT warm-up
  send({ ready: true, node: process.version, store: version("@igniter-js/store"), ioredis: version("ioredis"), autopipeline });
  const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of rl) {
    if (!line.trim()) continue;
    let cmd;
    try {
      cmd = JSON.parse(line);
    } catch (err) {
      send({ error: `bad command: ${err.message}` });
      continue;
    }
    send(await runCell({ load: cmd.load, callers: cmd.callers, durationMs: cmd.duration_ms, warmupMs: cmd.warmup_ms }));
  }
} else {
  send(
    await runCell({
      load: opts.load ?? "get",
      callers: Number(opts.callers ?? 1),
      durationMs: durationMs(opts.duration ?? "1s"),
      warmupMs: durationMs(opts.warmup ?? "0.2s"),
    }),
  );
}
await quit();

// runCell runs `callers` closed loops of `load` for warmupMs, then measures for durationMs.
async function runCell({ load, callers, durationMs, warmupMs }) {
  if (!["get", "set", "mix"].includes(load) || !(callers >= 1) || !(durationMs > 0)) {
    return { error: `bad cell: load=${load} callers=${callers} duration_ms=${durationMs}` };
  }
  let stop = false;
  let measuring = false;
  const counts = new Array(callers).fill(0);
  const errs = new Array(callers).fill(0);
  const lats = Array.from({ length: callers }, () => []);
  const loop = async (i) => {
    while (!stop) {
      const k = keys[(Math.random() * keys.length) | 0];
      const get = load === "get" || (load === "mix" && Math.random() < 0.8);
      const t0 = performance.now();
      let failed = false;
      try {
        if (get) await store.kv.get(k);
        else await store.kv.set(k, value);
      } catch {
        failed = true;
      }
      if (measuring) {
        const n = ++counts[i];
        if (failed) errs[i]++;
        // Every op's latency up to a bound, then every 16th (as the Go harness does).
        if (lats[i].length < 1 << 16 || n % 16 === 0) lats[i].push(performance.now() - t0);
      }
    }
  };
  const loops = Array.from({ length: callers }, (_, i) => loop(i));
  await sleep(warmupMs);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  measuring = true;
  await sleep(durationMs);
  measuring = false;
  const elapsed = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  stop = true;
  await Promise.all(loops);

  const count = counts.reduce((a, b) => a + b, 0);
  const errors = errs.reduce((a, b) => a + b, 0);
  const all = Float64Array.from(lats.flat()).sort();
  return {
    ops: count / (elapsed / 1000),
    p50_us: all.length ? all[all.length >> 1] * 1000 : 0,
    p99_us: all.length ? all[Math.floor((all.length * 99) / 100)] * 1000 : 0,
    cpu_us_per_op: count ? (cpu.user + cpu.system) / count : 0,
    count,
    errors,
    elapsed_ms: elapsed,
  };
}

async function quit() {
  redis.disconnect();
  adapter.subscriberClient?.disconnect(); // the adapter's own Pub/Sub connection
  process.exit(0);
}

function send(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
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
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith("--")) throw new Error(`unexpected argument ${a}`);
    const eq = a.indexOf("=");
    if (eq > 0) {
      out[a.slice(2, eq)] = a.slice(eq + 1);
    } else if (i + 1 < argv.length && !argv[i + 1].startsWith("--")) {
      out[a.slice(2)] = argv[++i];
    } else {
      out[a.slice(2)] = true;
    }
  }
  return out;
}

function splitAddr(addr) {
  const i = addr.lastIndexOf(":");
  return [addr.slice(0, i), Number(addr.slice(i + 1))];
}

// durationMs reads Go-style durations: "1s", "0.2s", "200ms", "1.5m"; a bare number is ms.
function durationMs(s) {
  const m = /^([0-9.]+)(ms|s|m)?$/.exec(String(s));
  if (!m) throw new Error(`bad duration ${s}`);
  const n = Number(m[1]);
  return m[2] === "s" ? n * 1000 : m[2] === "m" ? n * 60000 : n;
}
