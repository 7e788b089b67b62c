package history

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"slices"
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
	// Failover hands the primary serving the round's keys over to a replica ([Replicated]):
	// CLUSTER FAILOVER on a cluster, a coordinated handover that loses nothing acknowledged (the
	// full models are checked); SENTINEL FAILOVER under Sentinel, which is not coordinated (the
	// old primary acknowledges writes until the sentinels demote it, and they are lost), so there
	// the window from a sync point to the demotion is recorded ([Recorder.MayLose]).
	Failover Fault = "failover"
	// KillPrimary SIGKILLs the primary serving the round's keys and waits until a replica is
	// promoted. Replication is asynchronous: what the old primary acknowledged after its last
	// sync point with that replica may be lost, so the window from the sync point to the
	// promotion is recorded ([Recorder.MayLose]) and the weaker property checked.
	KillPrimary Fault = "kill-primary"
)

// AllFaults lists every fault kind on a single redis-server, in the order the long mode
// documents them.
var AllFaults = []Fault{LostReply, KillConnections, DelayReplies, Freeze, Restart, RestartWipe}

// FailoverFaults lists the fault kinds of a replicated set-up ([Replicated]).
var FailoverFaults = []Fault{Failover, KillPrimary}

// FailoverTimeout bounds one failover fault: waiting until the set-up can fail over (a replica
// in sync), the failover, and the promotion.
const FailoverTimeout = 60 * time.Second

// Replicated is a replicated Redis set-up, a cluster whose primaries have replicas or a primary
// and its replica under Sentinel, whose primary the failover faults replace. Each method first
// waits until the set-up can fail over (a replica in sync), and returns once the new primary
// serves and the old one can acknowledge no more writes (dead, or demoted).
type Replicated interface {
	// Failover hands the primary serving key over to a replica.
	Failover(ctx context.Context, key string) (Handover, error)
	// KillPrimary SIGKILLs the primary serving key and waits until a replica is promoted.
	KillPrimary(ctx context.Context, key string) (Handover, error)
	// Primaries waits until the set-up can fail over again and returns the addresses of its
	// primaries. [RunRound] compares them after the round with those before and the handovers
	// its faults made: a failover the faults did not make (a node too slow for the failure
	// detector) would lose writes outside every recorded window, so it fails the round instead
	// of passing for an anomaly.
	Primaries(ctx context.Context) ([]string, error)
}

// Handover is what a failover did.
type Handover struct {
	// MayLoseFrom is the start of the window in which Redis may lose writes it acknowledged:
	// the last point at which everything acknowledged was known to be on the replica that took
	// over. Zero when nothing acknowledged can be lost (a coordinated handover).
	MayLoseFrom time.Time
	// Done is when the new primary served and the old one could acknowledge no more writes.
	Done time.Time
	// Killed is when the old primary was SIGKILLed (zero for a handover that leaves it running):
	// it acknowledges nothing after, so the loss window ends there.
	Killed time.Time
	// From and To are the old and new primaries' addresses, for the log.
	From, To string
}

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
	Proxy      *faultproxy.Proxy    // LostReply, KillConnections
	Server     Server               // Restart, RestartWipe, Freeze
	Delayer    *Delayer             // DelayReplies
	Replicated Replicated           // Failover, KillPrimary
	Key        string               // the key whose primary Failover and KillPrimary replace
	Commands   []string             // the write commands LostReply picks from ("incr", "set"…)
	Rand       *rand.Rand           // the schedule's source
	Logf       func(string, ...any) // each injected fault is logged here when set
	// Rec receives a reset window ([Recorder.Reset]) for each RestartWipe and a loss window
	// ([Recorder.MayLose]) for each failover that may lose acknowledged writes; required with
	// them.
	Rec *Recorder

	mu        sync.Mutex
	injected  map[Fault]int
	err       error
	handovers []Handover // the failovers done, in order
}

// Run injects faults of the given kinds one at a time, with a random pause of 50–300ms after
// each (a restart or a failover is preceded by 300–800ms and followed by a second more), until
// ctx ends or a fault cannot be injected ([Faults.Err]). A failover happens at most once per
// Run, and starts only while at least [FailoverRoom] of ctx's time is left: the promotion takes
// seconds, and the clients should work on the new primary after it.
func (f *Faults) Run(ctx context.Context, kinds ...Fault) {
	restarted := false
	for ctx.Err() == nil && f.Err() == nil {
		if len(kinds) == 0 {
			<-ctx.Done()
			return
		}
		kind := kinds[f.Rand.IntN(len(kinds))]
		if restarted && isOutage(kind) {
			// Drawn again once: each restart costs a second of open breaker, so in a mixed
			// schedule restarts would crowd the other faults out.
			kind = kinds[f.Rand.IntN(len(kinds))]
		}
		restart := isOutage(kind)
		restarted = restarted || restart
		if restart && !pause(ctx, 300*time.Millisecond+time.Duration(f.Rand.Int64N(int64(500*time.Millisecond)))) {
			return // a restart first lets the store serve for a while: it costs a second of open breaker
		}
		if isFailover(kind) {
			kinds = slices.DeleteFunc(slices.Clone(kinds), isFailover)
			if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < FailoverRoom {
				continue // no room left for one: the clients finish the round
			}
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

// FailoverRoom is how much of a round must be left for a failover fault to start: the
// promotion takes seconds (failure detection, an election), and the round should see the
// clients work on the new primary after it.
const FailoverRoom = 2 * time.Second

func isFailover(k Fault) bool { return k == Failover || k == KillPrimary }

// isOutage reports whether a fault makes the server unavailable for a while (a restart, a
// failover): the store's breaker opens, so the schedule spaces such faults out.
func isOutage(k Fault) bool {
	return k == Restart || k == RestartWipe || k == Failover || k == KillPrimary
}

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
	case Failover, KillPrimary:
		happened = f.fail(kind, f.failover(ctx, kind))
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

// failover runs one failover fault to its end, even when ctx ends meanwhile (the set-up must
// not be left half failed over), and records its loss window.
func (f *Faults) failover(ctx context.Context, kind Fault) error {
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), FailoverTimeout)
	defer cancel()
	began := time.Now()
	var h Handover
	var err error
	if kind == Failover {
		h, err = f.Replicated.Failover(fctx, f.Key)
	} else {
		h, err = f.Replicated.KillPrimary(fctx, f.Key)
	}
	if h.Done.IsZero() {
		h.Done = time.Now()
	}
	if !h.MayLoseFrom.IsZero() {
		end := h.Done
		if !h.Killed.IsZero() && h.Killed.Before(end) {
			end = h.Killed
		}
		f.Rec.MayLose(h.MayLoseFrom, end)
	}
	f.mu.Lock()
	f.handovers = append(f.handovers, h)
	f.mu.Unlock()
	loss := "nothing acknowledged may be lost"
	if !h.MayLoseFrom.IsZero() {
		loss = fmt.Sprintf("acknowledged writes may be lost in the last %v", h.Done.Sub(h.MayLoseFrom).Round(time.Millisecond))
	}
	f.logf("fault %s: %s -> %s in %v (%s), err %v", kind, h.From, h.To, h.Done.Sub(began).Round(time.Millisecond), loss, err)
	return err
}

// Handovers returns the failovers the faults made, in order.
func (f *Faults) Handovers() []Handover {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Handover(nil), f.handovers...)
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
// number) until ctx ends or it has run perClient steps, and waits for them all. A step gets ctx
// without its deadline and cancellation: each operation's deadline is the client's own (the
// store's timeout), as an application's would be, not the end of the run (a delayed reply or a
// frozen server makes operations of unknown outcome, not just slow ones); a step in flight
// when ctx ends finishes.
func Drive(ctx context.Context, seed uint64, clients, perClient int, step func(ctx context.Context, client int, rng *rand.Rand)) {
	opCtx := context.WithoutCancel(ctx)
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(seed, uint64(c)+1))
			for i := 0; i < perClient && ctx.Err() == nil; i++ {
				step(opCtx, c, rng)
			}
		})
	}
	wg.Wait()
}
