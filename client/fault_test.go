package client_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/events"
	"github.com/igniter-go/store/internal/redistest"
	"github.com/igniter-go/store/middleware/breaker"
	"github.com/igniter-go/store/ops"
	"github.com/igniter-go/store/streams"
)

// transitions records the store's breaker signals as "from>to" strings and its pub/sub
// reconnections as "reconnected", for await.
type transitions struct {
	mu     sync.Mutex
	seen   []string
	notify chan struct{}
}

func newTransitions() *transitions { return &transitions{notify: make(chan struct{}, 1)} }

func (c *transitions) Observe(_ context.Context, s ops.Signal) {
	var v string
	switch s.Kind {
	case ops.SignalBreakerState:
		v = s.From + ">" + s.To
	case ops.SignalReconnected:
		v = "reconnected"
	default:
		return
	}
	c.mu.Lock()
	c.seen = append(c.seen, v)
	c.mu.Unlock()
	select {
	case c.notify <- struct{}{}:
	default:
	}
}

// await waits, for at most limit, until want has been seen, consumes that one sighting, and
// returns when it was noticed.
func (c *transitions) await(t *testing.T, want string, limit time.Duration) time.Time {
	t.Helper()
	deadline := time.After(limit)
	for {
		c.mu.Lock()
		i := slices.Index(c.seen, want)
		if i >= 0 {
			c.seen = slices.Delete(c.seen, i, i+1)
		}
		c.mu.Unlock()
		if i >= 0 {
			return time.Now()
		}
		select {
		case <-c.notify:
		case <-deadline:
			t.Fatalf("no %s within %v", want, limit)
		}
	}
}

// faultLoad is the load of the fault test: workers alternating INCR and GET, recording every
// outcome.
type faultLoad struct {
	st        *client.Store
	incrOK    atomic.Int64 // increments whose reply arrived: applied exactly once
	ambiguous atomic.Int64 // increments that failed, maybe after being sent: applied at most once
	refused   atomic.Int64 // calls refused at dial: never sent
	ok        atomic.Int64 // successful calls of both kinds
	unexpect  atomic.Int64
	lastErr   atomic.Value

	mu          sync.Mutex
	down        bool            // the server is down and the breaker has opened
	rejections  []time.Duration // latencies of open-breaker rejections while down
	downOthers  int             // other failures while down (failed probes)
	restartedAt time.Time
	firstOK     time.Time // the first success after the restart
	milestones  []milestone
}

type milestone struct {
	at   int64
	done chan struct{}
}

// after returns a channel closed once n more calls have succeeded.
func (l *faultLoad) after(n int64) <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	m := milestone{at: l.ok.Load() + n, done: make(chan struct{})}
	l.milestones = append(l.milestones, m)
	return m.done
}

func (l *faultLoad) record(start time.Time, incr bool, err error) {
	elapsed := time.Since(start)
	switch {
	case err == nil:
		if incr {
			l.incrOK.Add(1)
		}
		n := l.ok.Add(1)
		l.mu.Lock()
		if !l.restartedAt.IsZero() && l.firstOK.IsZero() {
			l.firstOK = time.Now()
		}
		l.milestones = slices.DeleteFunc(l.milestones, func(m milestone) bool {
			if n >= m.at {
				close(m.done)
				return true
			}
			return false
		})
		l.mu.Unlock()
		return
	case errors.Is(err, breaker.ErrOpen):
		l.mu.Lock()
		if l.down {
			l.rejections = append(l.rejections, elapsed)
		}
		l.mu.Unlock()
		return
	case errors.Is(err, ops.ErrUnavailable):
		if errors.Is(err, syscall.ECONNREFUSED) {
			l.refused.Add(1)
		} else if incr {
			l.ambiguous.Add(1)
		}
		l.mu.Lock()
		if l.down {
			l.downOthers++
		}
		l.mu.Unlock()
		return
	}
	l.unexpect.Add(1)
	l.lastErr.Store(err.Error())
}

func (l *faultLoad) run(ctx context.Context, workers int, wg *sync.WaitGroup) {
	for w := range workers {
		wg.Go(func() {
			tick := time.NewTicker(2 * time.Millisecond) // pace: rejections are too fast to spin on
			defer tick.Stop()
			for i := 0; ; i++ {
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
				}
				start := time.Now()
				if (i+w)%2 == 0 {
					_, err := l.st.Counter.Increment(ctx, "hits")
					if ctx.Err() != nil { // stopped mid-call: it may have been applied
						if err == nil {
							l.incrOK.Add(1)
						} else {
							l.ambiguous.Add(1)
						}
						return
					}
					l.record(start, true, err)
				} else {
					var v int
					_, err := l.st.KV.Get(ctx, "k", &v)
					if ctx.Err() != nil {
						return
					}
					l.record(start, false, err)
				}
			}
		})
	}
}

// TestFaultKillRestartUnderLoad kills a real redis-server (SIGKILL) under a load of concurrent
// INCR and GET, and restarts it on the same port, with the store's default resilience. The
// server runs with appendfsync always, so every acknowledged INCR survives the kill.
func TestFaultKillRestartUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("fault test")
	}
	srv := redistest.Start(t, "--appendonly", "yes", "--appendfsync", "always")
	raw := srv.Client(t)
	tr := newTransitions()
	st, err := client.New().WithService("api").WithAdapter(client.Redis(srv.Client(t))).WithObserver(tr).Build()
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	bg := context.Background()
	if err := st.KV.Set(bg, "k", 1, 0); err != nil {
		t.Fatal(err)
	}
	ps := startPubSubAndConsumer(t, st)
	ps.roundTrip(t, "before the kill")

	l := &faultLoad{st: st}
	ctx, stop := context.WithCancel(bg)
	var wg sync.WaitGroup
	l.run(ctx, 8, &wg)
	defer func() { stop(); wg.Wait() }()

	<-l.after(200)
	srv.Kill()
	killed := time.Now()
	opened := tr.await(t, "closed>open", 10*time.Second)
	l.mu.Lock()
	l.down = true
	l.mu.Unlock()
	// Stay down until a half-open probe has failed and the breaker re-opened.
	tr.await(t, "half-open>open", 10*time.Second)
	l.mu.Lock()
	l.down = false
	rejected := slices.Clone(l.rejections)
	others := l.downOthers
	l.mu.Unlock()

	srv.Restart() // returns once the server accepts connections
	restarted := time.Now()
	l.mu.Lock()
	l.restartedAt = restarted
	l.mu.Unlock()
	closed := tr.await(t, "half-open>closed", 10*time.Second)
	tr.await(t, "reconnected", 10*time.Second) // the subscriber is subscribed again
	ps.roundTrip(t, "after the restart")
	<-l.after(200)
	stop()
	wg.Wait()

	l.mu.Lock()
	firstOK := l.firstOK
	l.mu.Unlock()
	recovered := max(closed.Sub(restarted), firstOK.Sub(restarted))
	if closed.Sub(restarted) > 2*time.Second || firstOK.Sub(restarted) > 2*time.Second {
		t.Errorf("recovery took %v after the server accepted connections (breaker closed after %v, first success after %v), want ≤ 2s",
			recovered, closed.Sub(restarted), firstOK.Sub(restarted))
	}

	if len(rejected) == 0 {
		t.Fatal("no call failed fast with the open-breaker error while the server was down")
	}
	if others > len(rejected) {
		t.Errorf("while down, %d calls waited for Redis and only %d failed fast", others, len(rejected))
	}
	slices.Sort(rejected)
	counter, okIncr, amb := l.checkCounter(t, raw)
	t.Logf("down %v → breaker open after %v; %d calls rejected while down, median %v, p90 %v, max %v; %d failed probes/in-flight",
		restarted.Sub(killed), opened.Sub(killed), len(rejected), rejected[len(rejected)/2], rejected[len(rejected)*9/10],
		rejected[len(rejected)-1], others)
	t.Logf("recovery: breaker closed %v and first success %v after the server accepted connections",
		closed.Sub(restarted), firstOK.Sub(restarted))
	t.Logf("INCR: counter %d = %d acknowledged + %d of %d ambiguous; %d refused at dial; %d successes in all",
		counter, okIncr, counter-okIncr, amb, l.refused.Load(), l.ok.Load())
}

// pubSubAndConsumer is a subscription and a stream consume loop whose handlers report what they
// receive.
type pubSubAndConsumer struct {
	st       *client.Store
	n        int
	events   chan string
	entries  chan string
	consumed chan error
}

func startPubSubAndConsumer(t *testing.T, st *client.Store) *pubSubAndConsumer {
	t.Helper()
	p := &pubSubAndConsumer{st: st, events: make(chan string, 16), entries: make(chan string, 16), consumed: make(chan error, 1)}
	sub, err := st.Events.Subscribe(context.Background(), "ping", func(_ context.Context, m events.Message) error {
		p.events <- string(m.Data)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		p.consumed <- st.Streams.Group("workers", "w1").Consume(ctx, "jobs", func(_ context.Context, e streams.Entry) error {
			p.entries <- string(e.Message)
			return nil
		}, streams.ConsumeOptions{Block: 100 * time.Millisecond, LagInterval: -1})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-p.consumed; err != nil && !ops.HasCode(err, ops.CodeClosed) {
			t.Errorf("consume loop: %v", err)
		}
	})
	return p
}

// roundTrip publishes an event and appends an entry, and waits for both handlers to get them.
func (p *pubSubAndConsumer) roundTrip(t *testing.T, when string) {
	t.Helper()
	p.event(t, when)
	p.entry(t, when)
}

// event publishes the next number and waits for the subscription to receive it.
func (p *pubSubAndConsumer) event(t *testing.T, when string) {
	t.Helper()
	p.n++
	if err := p.st.Events.Publish(context.Background(), "ping", p.n); err != nil {
		t.Fatalf("publish %s: %v", when, err)
	}
	expect(t, "subscription", when, p.events, strconv.Itoa(p.n))
}

// entry appends the next number and waits for the consumer to receive it.
func (p *pubSubAndConsumer) entry(t *testing.T, when string) {
	t.Helper()
	p.n++
	if _, err := p.st.Streams.Append(context.Background(), "jobs", p.n, streams.AppendOptions{}); err != nil {
		t.Fatalf("append %s: %v", when, err)
	}
	expect(t, "consumer", when, p.entries, strconv.Itoa(p.n))
}

func expect(t *testing.T, name, when string, ch chan string, want string) {
	t.Helper()
	select {
	case got := <-ch:
		if got != want {
			t.Fatalf("%s %s: got %s, want %s", name, when, got, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("the %s received nothing %s", name, when)
	}
}

// checkCounter fails the test if a call failed with an unexpected error, or if the counter the
// load incremented is not between the acknowledged increments and those plus the ambiguous ones
// (a reply lost in the fault: applied or not). Nothing retries a write, so none counts twice.
func (l *faultLoad) checkCounter(t *testing.T, raw *redis.Client) (counter, okIncr, amb int64) {
	t.Helper()
	if n := l.unexpect.Load(); n > 0 {
		t.Errorf("%d calls failed with an unexpected error, last: %v", n, l.lastErr.Load())
	}
	v, err := raw.Get(context.Background(), "igniter:store:api:counter:hits").Result()
	if err != nil {
		t.Fatal(err)
	}
	counter, _ = strconv.ParseInt(v, 10, 64)
	okIncr, amb = l.incrOK.Load(), l.ambiguous.Load()
	if counter < okIncr || counter > okIncr+amb {
		t.Errorf("counter = %d, acknowledged increments = %d, ambiguous = %d: an INCR was lost or applied twice", counter, okIncr, amb)
	}
	return counter, okIncr, amb
}
