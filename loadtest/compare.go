package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/loadtest/internal/drive"
	"github.com/igniter-go/store/loadtest/internal/hist"
	"github.com/igniter-go/store/loadtest/internal/report"
)

// compareScenarios are the scenarios -compare runs: those with a plain go-redis equivalent of
// a few lines. Events and streams need a subscriber and a consumer loop, which is the store's
// own work, not a like-for-like baseline.
var compareScenarios = []string{"kv", "counter", "claim"}

// releaseScript is the compare-and-delete a plain go-redis claim release needs.
var releaseScript = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`)

// gcraScript is the GCRA check a plain go-redis rate limiter runs (as go-redis/redis_rate
// does, in whole microseconds): the same commands as the ratelimit package's script (TIME,
// GET, SET PX) on the same key, storing the theoretical arrival time in the same format, so
// the two variants can take turns on one key. ARGV: the emission interval and the burst
// horizon, in µs. Returns 1 when the call passed.
var gcraScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local interval, horizon = tonumber(ARGV[1]), tonumber(ARGV[2])
if tat - now > horizon - interval then return 0 end
tat = tat + interval
redis.call('SET', KEYS[1], string.format('%d', tat), 'PX', math.ceil((tat - now) / 1000))
return 1`)

// plainStep returns the scenario's workload written against go-redis directly: the same keys
// (the store's full key layout), the same JSON values, the same command sequence, without the
// store's chain (telemetry, timeout, retry, breaker) and without its key building and typed
// decoding.
func plainStep(e *env, rdb redis.UniversalClient, sc *scenario) drive.Step {
	c := e.cfg
	kvKeys := make([][]string, len(e.st.tenants))
	for _, p := range sc.parts {
		if kv, ok := p.(*kvPart); ok {
			for t, st := range e.st.tenants {
				kvKeys[t] = make([]string, len(kv.keys))
				for i, k := range kv.keys {
					kvKeys[t][i] = st.Prefix() + ":kv:" + k
				}
			}
		}
	}
	value := record{ID: "u", At: time.Unix(1_700_000_000, 0).UTC(), Payload: strings.Repeat("x", max(c.valueSize-60, 0))}
	prefix := func(w *drive.Worker) (int, string) {
		t := w.Rand.IntN(len(e.st.tenants))
		return t, e.st.tenants[t].Prefix()
	}
	switch c.scenario {
	case "counter":
		interval := time.Second.Microseconds() / c.limit
		horizon := interval * c.limit
		return func(ctx context.Context, w *drive.Worker) (string, error) {
			_, p := prefix(w)
			key := p + ":counter:ratelimit:user:" + itoa(e.zipfKey(w, c.users))
			ok, err := gcraScript.Run(ctx, rdb, []string{key}, interval, horizon).Int()
			switch {
			case err != nil:
				return opAllow, err
			case ok == 1:
				return opAllowed, nil
			}
			return opRefused, nil
		}
	case "claim":
		return func(ctx context.Context, w *drive.Worker) (string, error) {
			_, p := prefix(w)
			key, owner := p+":claim:job:"+itoa(w.Rand.IntN(c.claimKeys)), `"w`+itoa(w.ID)+`"`
			ok, err := rdb.SetNX(ctx, key, owner, 5*time.Second).Result()
			if err != nil {
				return "claim.once", err
			}
			if !ok {
				return opClaimTaken, nil
			}
			return opClaimWon, releaseScript.Run(ctx, rdb, []string{key}, owner).Err()
		}
	}
	return func(ctx context.Context, w *drive.Worker) (string, error) {
		t, _ := prefix(w)
		key := kvKeys[t][e.pickKey(w, c.keys)]
		if w.Rand.Float64() < c.reads {
			b, err := rdb.Get(ctx, key).Bytes()
			if errors.Is(err, redis.Nil) {
				return "kv.get", nil
			}
			if err != nil {
				return "kv.get", err
			}
			var r record
			return "kv.get", json.Unmarshal(b, &r)
		}
		v := value
		v.Counter = w.Rand.IntN(1 << 20)
		b, err := json.Marshal(v)
		if err != nil {
			return "kv.set", err
		}
		return "kv.set", rdb.Set(ctx, key, b, time.Hour).Err()
	}
}

// compareRounds is how many turns each variant gets: the variants alternate (ABBA…) so a
// change in the machine's load falls on both alike.
const compareRounds = 10

// runCompare runs the scenario's workload through plain go-redis and through the store in
// alternating turns of duration/(2×rounds), after a warm-up of each, and reports both.
func runCompare(ctx context.Context, e *env, tgt *target, out io.Writer) (*report.Report, error) {
	c := e.cfg
	sc := newScenario(e)
	for _, p := range sc.parts {
		if err := p.setup(ctx, e); err != nil {
			return nil, err
		}
		defer p.stop()
	}
	rdb := tgt.client(c, len(c.clusterAddrs) > 0)
	defer rdb.Close()
	if err := tgt.ping(ctx, rdb); err != nil {
		return nil, err
	}
	type variant struct {
		name    string
		step    drive.Step
		set     *hist.Set
		elapsed time.Duration
		cpu     time.Duration
	}
	vs := []*variant{
		{name: "go-redis", step: plainStep(e, rdb, sc), set: hist.NewSet(shards)},
		{name: "store", step: sc.step, set: hist.NewSet(shards)},
	}
	turn := max(c.duration/(2*compareRounds), 100*time.Millisecond)
	fmt.Fprintf(out, "igniter store loadtest -compare: scenario %s, plain go-redis vs the store (default chain)\ntarget: %s\nloop: closed, %d workers; %d turns of %s each, alternating, after %s warm-up each\n",
		c.scenario, tgt.desc, c.concurrency, compareRounds, turn, c.warmup)
	e.measureFrom.Store(time.Now().UnixNano())
	for _, v := range vs {
		drive.Run(ctx, drive.Options{Workers: c.concurrency, Duration: max(c.warmup, time.Millisecond), Code: codeOf}, hist.NewSet(1), v.step)
	}
	fmt.Fprintln(out, "measuring…")
	interrupted := false
	for round := 0; round < compareRounds && !interrupted; round++ {
		order := []*variant{vs[0], vs[1]}
		if round%2 == 1 {
			order[0], order[1] = order[1], order[0]
		}
		for _, v := range order {
			cpu0 := cpuTime()
			res := drive.Run(ctx, drive.Options{Workers: c.concurrency, Duration: turn, Code: codeOf}, v.set, v.step)
			v.cpu += cpuTime() - cpu0
			v.elapsed += res.Elapsed
			if res.Interrupted {
				interrupted = true
				break
			}
		}
	}
	r := &report.Report{Scenario: c.scenario, Description: "compare: " + sc.desc, Target: tgt.info, Machine: report.ThisMachine(),
		Loop: loopDesc(c, c.concurrency), Started: time.Now().UTC().Truncate(time.Second), Settings: settingsOf(c)}
	for _, v := range vs {
		ops, all := v.set.Summaries(max(v.elapsed, time.Millisecond))
		rv := report.Variant{Name: v.name, Elapsed: v.elapsed, Ops: ops, All: all}
		if n := drivenOps(ops); n > 0 {
			rv.CPUPerOp = v.cpu / time.Duration(n)
		}
		r.Compare = append(r.Compare, rv)
		r.Elapsed += v.elapsed
	}
	store := r.Compare[1]
	r.Ops, r.All = store.Ops, store.All
	r.CPUNote = cpuNote(c)
	if interrupted {
		r.Partial, r.Reason = true, "interrupted by a signal"
	}
	return r, nil
}
