package client_test

import (
	"context"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/internal/redistest"
)

// TestStalledServerOpensTheBreaker freezes a real redis-server (SIGSTOP) under load: it keeps
// its connections but answers nothing. Calls time out (go-redis ReadTimeout, an unavailable
// error), the breaker opens and calls fail fast; after SIGCONT the breaker closes again. INCRs
// that timed out while the server was frozen are executed when it resumes: the client could
// not know, which is why no write is ever retried.
func TestStalledServerOpensTheBreaker(t *testing.T) {
	if testing.Short() {
		t.Skip("fault test")
	}
	srv := redistest.Start(t)
	raw := srv.Client(t)
	bg := context.Background()
	pid := serverPID(t, raw)
	resumed := sync.OnceFunc(func() { _ = syscall.Kill(pid, syscall.SIGCONT) })
	t.Cleanup(resumed)

	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr, MaxRetries: -1, ContextTimeoutEnabled: true,
		ReadTimeout: 200 * time.Millisecond, WriteTimeout: 200 * time.Millisecond})
	tr := newTransitions()
	st, err := client.New().WithService("api").WithAdapter(client.Redis(rdb, client.OwnClient())).WithObserver(tr).Build()
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.KV.Set(bg, "k", 1, 0); err != nil {
		t.Fatal(err)
	}
	l := &faultLoad{st: st}
	ctx, stop := context.WithCancel(bg)
	var wg sync.WaitGroup
	l.run(ctx, 8, &wg)
	defer func() { stop(); wg.Wait() }()

	<-l.after(100)
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	stalled := time.Now()
	opened := tr.await(t, "closed>open", 10*time.Second)
	l.mu.Lock()
	l.down = true
	l.mu.Unlock()
	tr.await(t, "half-open>open", 10*time.Second) // a probe timed out: still frozen
	l.mu.Lock()
	l.down = false
	rejected := len(l.rejections)
	l.mu.Unlock()
	resumed()
	resumedAt := time.Now()
	closed := tr.await(t, "half-open>closed", 10*time.Second)
	<-l.after(100)
	stop()
	wg.Wait()

	if rejected == 0 {
		t.Fatal("no call failed fast while the server was frozen")
	}
	counter, okIncr, amb := l.checkCounter(t, raw)
	t.Logf("frozen: breaker open %v after SIGSTOP; %d calls rejected while frozen; closed %v after SIGCONT",
		opened.Sub(stalled), rejected, closed.Sub(resumedAt))
	t.Logf("INCR: counter %d = %d acknowledged + %d of %d that timed out but ran when the server resumed",
		counter, okIncr, counter-okIncr, amb)
}

func serverPID(t *testing.T, raw *redis.Client) int {
	t.Helper()
	return redistest.InfoInt(t, raw, "server", "process_id")
}
