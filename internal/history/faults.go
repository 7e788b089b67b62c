package history

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/igniter-go/store/internal/faultproxy"
)

// SeedEnv names the variable that replays a run: its fault schedule and every client's choice of
// operations come from the seed (goroutine scheduling does not).
const SeedEnv = "HISTORY_SEED"

// Seed returns the run's seed, from HISTORY_SEED when set and random otherwise, and logs it with
// the command that replays the test.
func Seed(t testing.TB) uint64 {
	t.Helper()
	seed := rand.Uint64()
	if s := os.Getenv(SeedEnv); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q: %v", SeedEnv, s, err)
		}
		seed = v
	}
	t.Logf("seed %d (replay: %s=%d go test -race -run '^%s$' ./internal/history)", seed, SeedEnv, seed, t.Name())
	return seed
}

// Delayer delays the replies a client reads, for the connections its Dialer makes: while a delay
// is set, every read from the network waits that long first, as behind a congested link or a
// slow server. A reply delayed past the caller's deadline is a timeout after the write.
type Delayer struct{ d atomic.Int64 }

// Set sets the delay of every read from now on; 0 turns it off.
func (d *Delayer) Set(delay time.Duration) { d.d.Store(int64(delay)) }

// Dialer dials TCP and wraps the connection so its reads are delayed; use it as go-redis's
// Options.Dialer.
func (d *Delayer) Dialer() func(ctx context.Context, network, addr string) (net.Conn, error) {
	var dialer net.Dialer
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dialer.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return delayedConn{Conn: c, d: d}, nil
	}
}

type delayedConn struct {
	net.Conn
	d *Delayer
}

func (c delayedConn) Read(b []byte) (int, error) {
	if delay := time.Duration(c.d.d.Load()); delay > 0 {
		time.Sleep(delay) // the fault itself: the reply arrives late
	}
	return c.Conn.Read(b)
}

// Fault is a kind of fault a run injects.
type Fault string

// The faults.
const (
	// LostReply lets one write command reach the server and drops its reply with the connection.
	LostReply Fault = "lost-reply"
	// KillConnections closes every client connection at once, commands in flight included.
	KillConnections Fault = "kill-connections"
	// DelayReplies delays every reply for a while, past the operations' deadline at times.
	DelayReplies Fault = "delay-replies"
	// Restart SIGKILLs the redis-server and starts it again on the same port and directory: what
	// survives is what its persistence wrote (the cells run it with the AOF fsynced before every
	// reply, so every acknowledged write survives and the full model is checked).
	Restart Fault = "restart"
	// RestartWipe SIGKILLs the redis-server and starts it again empty: a restart without
	// persistence. Redis itself loses acknowledged writes there, so the run's history is checked
	// as epochs: each restart is a reset point ([Recorder.Reset]; see [Recorder.Histories]).
	RestartWipe Fault = "restart-wipe"
	// Freeze stops the redis-server with SIGSTOP for 100–600ms, then SIGCONT: it answers
	// nothing meanwhile, and runs what it was sent once thawed, after the callers may have
	// given up.
	Freeze Fault = "freeze"
)

// AllFaults lists every fault kind, in the order the long mode documents them.
var AllFaults = []Fault{LostReply, KillConnections, DelayReplies, Freeze, Restart, RestartWipe}

// Server is the redis-server process a run restarts or freezes. Each method returns when the
// fault is in place (a restarted server accepts connections again).
type Server interface {
	// Restart SIGKILLs the server and starts it again; its persistence decides what survives.
	Restart() error
	// RestartEmpty SIGKILLs the server and starts it again with no data at all.
	RestartEmpty() error
	// Freeze stops the process (SIGSTOP); Thaw resumes it (SIGCONT).
	Freeze() error
	Thaw() error
}

// Faults injects faults from a seeded random source. The zero values of the optional fields
// leave their faults out.
type Faults struct {
	Proxy    *faultproxy.Proxy    // LostReply, KillConnections
	Server   Server               // Restart, RestartWipe, Freeze
	Delayer  *Delayer             // DelayReplies
	Commands []string             // the write commands LostReply picks from ("incr", "set"…)
	Rand     *rand.Rand           // the schedule's source
	Logf     func(string, ...any) // each injected fault is logged here when set
	// Rec receives a reset window ([Recorder.Reset]) for each RestartWipe; required with it.
	Rec *Recorder

	mu       sync.Mutex
	injected map[Fault]int
	err      error
}

// Run injects faults of the given kinds one at a time, with a random pause of 50–300ms after
// each (a restart is preceded by 300–800ms and followed by a second more), until ctx ends or a
// fault cannot be injected ([Faults.Err]).
func (f *Faults) Run(ctx context.Context, kinds ...Fault) {
	if len(kinds) == 0 {
		return
	}
	restarted := false
	for ctx.Err() == nil && f.Err() == nil {
		kind := kinds[f.Rand.IntN(len(kinds))]
		if restarted && isRestart(kind) {
			// Drawn again once: each restart costs a second of open breaker, so in a mixed
			// schedule restarts would crowd the other faults out.
			kind = kinds[f.Rand.IntN(len(kinds))]
		}
		restart := isRestart(kind)
		restarted = restarted || restart
		if restart && !pause(ctx, 300*time.Millisecond+time.Duration(f.Rand.Int64N(int64(500*time.Millisecond)))) {
			return // a restart first lets the store serve for a while: it costs a second of open breaker
		}
		f.Inject(ctx, kind)
		gap := 50*time.Millisecond + time.Duration(f.Rand.Int64N(int64(250*time.Millisecond)))
		if restart {
			gap += time.Second // the store's breaker stays open 1s after the outage: let it close
		}
		pause(ctx, gap)
	}
}

// RunUntil is [Faults.Run] until ctx ends or done is closed (the clients finished); it returns
// once done is closed.
func (f *Faults) RunUntil(ctx context.Context, done <-chan struct{}, kinds ...Fault) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-done:
			cancel()
		case <-ctx.Done():
		}
	}()
	f.Run(ctx, kinds...)
	cancel()
	<-done
}

func isRestart(k Fault) bool { return k == Restart || k == RestartWipe }

// Err returns the first error of a fault that could not be injected (a server that did not
// restart), or nil.
func (f *Faults) Err() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

func (f *Faults) fail(kind Fault, err error) bool {
	if err == nil {
		return true
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err == nil {
		f.err = fmt.Errorf("fault %s: %w", kind, err)
	}
	return false
}

// Inject injects one fault of the given kind and waits until it is over.
func (f *Faults) Inject(ctx context.Context, kind Fault) {
	happened := true
	switch kind {
	case LostReply:
		cmd := f.Commands[f.Rand.IntN(len(f.Commands))]
		fired := f.Proxy.DropReplyTo(cmd)
		select {
		case <-fired:
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
		f.Proxy.Disarm()
		select {
		case <-fired:
		default:
			happened = false // no such command went by meanwhile
		}
		f.logf("fault %s %s: fired=%v", kind, cmd, happened)
	case KillConnections:
		n := f.Proxy.KillConnections()
		f.logf("fault %s: %d connections", kind, n)
	case DelayReplies:
		delay := time.Duration(50+f.Rand.IntN(400)) * time.Millisecond
		window := time.Duration(50+f.Rand.IntN(250)) * time.Millisecond
		f.Delayer.Set(delay)
		pause(ctx, window)
		f.Delayer.Set(0)
		f.logf("fault %s: %v for %v", kind, delay, window)
	case Restart:
		happened = f.fail(kind, f.Server.Restart())
		f.logf("fault %s", kind)
	case RestartWipe:
		from := time.Now()
		happened = f.fail(kind, f.Server.RestartEmpty())
		f.Rec.Reset(from, time.Now())
		f.logf("fault %s", kind)
	case Freeze:
		window := time.Duration(100+f.Rand.IntN(500)) * time.Millisecond
		happened = f.fail(kind, f.Server.Freeze())
		if happened {
			pause(ctx, window)
			happened = f.fail(kind, f.Server.Thaw())
		}
		f.logf("fault %s: %v", kind, window)
	default:
		panic(fmt.Sprintf("history: unknown fault %q", kind))
	}
	if happened {
		f.mu.Lock()
		if f.injected == nil {
			f.injected = map[Fault]int{}
		}
		f.injected[kind]++
		f.mu.Unlock()
	}
}

// Injected returns how many faults of each kind took effect.
func (f *Faults) Injected() map[Fault]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[Fault]int, len(f.injected))
	for k, v := range f.injected {
		out[k] = v
	}
	return out
}

func (f *Faults) logf(format string, args ...any) {
	if f.Logf != nil {
		f.Logf(format, args...)
	}
}

// pause waits d or until ctx ends, and reports whether ctx is still live. It paces a workload
// or a fault schedule; it synchronises nothing.
func pause(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// Drive runs clients goroutines, each calling step with its own random source (from seed and its
// number) until ctx ends or it has run perClient steps, and waits for them all.
func Drive(ctx context.Context, seed uint64, clients, perClient int, step func(ctx context.Context, client int, rng *rand.Rand)) {
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(seed, uint64(c)+1))
			for i := 0; i < perClient && ctx.Err() == nil; i++ {
				step(ctx, c, rng)
			}
		})
	}
	wg.Wait()
}
