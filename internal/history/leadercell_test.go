package history_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/internal/faultproxy"
	"github.com/igniter-go/store/internal/history"
	"github.com/igniter-go/store/internal/redistest"
	"github.com/igniter-go/store/leader"
)

// The leader cell: four candidates of one election (package leader, TTL 300ms) campaign, hold
// their terms (up to half a TTL, or one to two TTLs kept alive by extensions) or lose them,
// resign and campaign again under each fault that applies to a lease's holder: lost replies of the lease scripts,
// delayed replies (extensions late past TTL/3, acquire replies late), killed connections, a
// frozen server. Each term is recorded from Campaign's return to the moment its work had to
// stop: its context's end (the validity the leader computed) or its resignation. The direct
// check (history.CheckTerms): no two terms live at once, fences strictly increasing in the order
// terms began. runRound fails the cell when no term was won.
func TestHistoryLeaderLostReplies(t *testing.T)    { runCell(t, leaderCell(history.LostReply)) }
func TestHistoryLeaderDelayedReplies(t *testing.T) { runCell(t, leaderCell(history.DelayReplies)) }
func TestHistoryLeaderFrozenServer(t *testing.T)   { runCell(t, leaderCell(history.Freeze)) }
func TestHistoryLeaderKilledConnections(t *testing.T) {
	runCell(t, leaderCell(history.KillConnections))
}

// leaderCell is the leader cell under f, for 3s: a term lasts a few hundred milliseconds.
func leaderCell(f history.Fault) cell {
	c := newCell(history.LeaderCell(), f)
	c.dur = 3 * time.Second
	return c
}

// The leader check catches a leader that ignores the late-reply rule: it counts its term valid
// for the TTL from when its acquire's reply arrived, while Redis started the TTL when it ran the
// acquire, earlier by as much as the reply was late (and it never extends). Two candidates: one
// reads its replies 150ms late on top of the fault's delays (a slow link), the other goes
// through an undelayed store on the same proxy; each keeps its term for two TTLs, or until it
// ends (the naive leader's a TTL after its reply, the leader package's when it can no longer be
// sure of its lease). When the slow candidate wins, the undelayed one takes the lease at its
// expiry while the naive leader still thinks it leads for 150ms more: the check must report the
// overlapping terms. The round runs 5s, for about fifteen terms. The leader package under the same set-up and faults is the control.
func TestHistoryPlantedLeaderIgnoresLateReplies(t *testing.T) {
	for _, tc := range []struct {
		name  string
		naive bool
	}{
		{"NaiveLeader", true},
		{"Election", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := redistest.Start(t)
			p := faultproxy.Start(t, srv.Addr)
			delay := &history.Delayer{}
			slow := func(ctx context.Context, network, addr string) (net.Conn, error) {
				c, err := delay.Dialer()(ctx, network, addr)
				return slowConn{c}, err
			}
			tgt := history.Target{Store: storeOn(t, p.Addr, slow), Proxy: p, Server: testServer{srv}, Delayer: delay}
			undelayed := storeOn(t, p.Addr)
			c := newCell(history.LeaderCellWith(tc.name, 2*history.LeaderTTL, func(st *client.Store, name string, n int) ([]history.LeaderCandidate, error) {
				out := make([]history.LeaderCandidate, 2) // n = 4: two are enough, more would rarely let the slow one win
				for i := range out {
					s := st
					if i == 0 {
						s = undelayed
					}
					out[i] = naiveCandidate{st: s, key: name}
					if !tc.naive {
						el, err := leader.New(s, name, leader.Options{TTL: history.LeaderTTL, ID: fmt.Sprintf("c%d", i)})
						if err != nil {
							return nil, err
						}
						out[i] = history.StoreCandidate{Election: el}
					}
				}
				return out, nil
			}), history.DelayReplies)
			c.dur = 5 * time.Second
			r := runRoundOn(t, c, tgt)
			if !tc.naive {
				assertVerdict(t, history.Result{Verdict: r.Verdict, Report: r.Report}, true)
				return
			}
			t.Logf("report:\n%s", r.Report)
			if r.Verdict != porcupine.Illegal || !strings.Contains(r.Report, "overlap") {
				t.Fatalf("verdict %s, want Illegal with the overlapping terms named", r.Verdict)
			}
		})
	}
}

// slowConn reads every reply 150ms late: a slow link.
type slowConn struct{ net.Conn }

func (c slowConn) Read(b []byte) (int, error) {
	time.Sleep(150 * time.Millisecond) // the planted condition: every reply arrives late
	return c.Conn.Read(b)
}

// naiveCandidate is the planted broken leader: Claim.Acquire, waiting, then a term valid for the
// TTL counted from the reply.
type naiveCandidate struct {
	st  *client.Store
	key string
}

func (c naiveCandidate) Campaign(ctx context.Context) (history.LeaderTerm, error) {
	l, err := c.st.Claim.Acquire(ctx, c.key, history.LeaderTTL, client.AcquireOptions{Wait: time.Hour, RetryInterval: history.LeaderTTL / 10})
	if err != nil {
		return nil, err
	}
	tctx, cancel := context.WithTimeout(context.Background(), history.LeaderTTL) // the defect: from the reply
	return naiveTerm{l: l, ctx: tctx, cancel: cancel}, nil
}

type naiveTerm struct {
	l      *client.Lease
	ctx    context.Context
	cancel context.CancelFunc
}

func (t naiveTerm) Fence() int64             { return t.l.Fence() }
func (t naiveTerm) Context() context.Context { return t.ctx }
func (t naiveTerm) Resign(ctx context.Context) error {
	t.cancel()
	_ = t.l.Release(ctx) // an expired lease is STORE_LEASE_LOST: nothing to give back
	return nil
}
