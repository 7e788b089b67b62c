package history

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/streams"
)

// StreamAppendInput is a recorded append of Payload (unique per append) to Stream.
type StreamAppendInput struct{ Stream, Payload string }

// streamMessage is the message each append carries.
type streamMessage struct {
	P string `json:"p"`
}

// The stream cell's consume loops: claim quickly, so an entry whose XREADGROUP reply was lost
// (delivered to a consumer that never saw it) is delivered again within the round; never give
// up on an entry (a dead-lettered entry is not handled, and handlers here never fail, so only
// lost replies raise the delivery count).
var streamConsumeOptions = streams.ConsumeOptions{
	Concurrency: 2, Batch: 16, Block: 100 * time.Millisecond,
	ClaimIdle: 300 * time.Millisecond, ClaimInterval: 100 * time.Millisecond,
	MaxDeliveries: 1_000_000, LagInterval: -1, StopGrace: time.Second, EnsureStartID: "0",
}

// StreamDrain bounds how long a stream round waits, after its appends, for every acknowledged
// append to be handled. It stops waiting sooner when the group has nothing left to give (no lag,
// nothing pending: an entry still missing was acked without being handled, or never reached the
// stream), or when no entry was handled for StreamQuiet while the group could not be asked.
// What is still missing then is reported lost. (After a restart, redelivering a pending entry
// was seen to take up to ~5s: the store's breaker stays open for a second, then the loop's next
// claim pass must find the entry idle.)
const (
	StreamDrain = 20 * time.Second
	StreamQuiet = 8 * time.Second
)

// StreamCell is a stream consumed by a group, at least once: the round's clients append unique
// payloads (Streams.Append, recorded ok, failed or unknown), two consume loops of one group
// (Group.Consume, the documented consume loop with claiming) handle them, and after the appends
// the round waits until every acknowledged append was handled ([StreamDrain] at most), then runs
// [CheckStream]: every OK append handled, nothing handled that was not appended by an OK or
// unknown call. A lost reply picks XADD, XREADGROUP or XACK. After a restart without
// persistence ([RestartWipe]) the stream and its group are gone with every entry not yet
// handled, as the consume loop documents: an OK append called before such a restart counts
// as unknown.
func StreamCell() Cell { return streamCell{consumers: 2} }

// streamCell's losing, when positive, plants a defect: every losing-th delivery is acked
// without being recorded as handled, as a handler that acks before its work and then crashes.
type streamCell struct {
	consumers int
	losing    int
}

func (c streamCell) name() string { return "stream" }
func (c streamCell) commands() []string {
	return []string{"xadd", "xreadgroup", "xack"}
}

func (c streamCell) start(ctx context.Context, st *client.Store, rec *Recorder, o RoundOptions) roundRun {
	r := &streamRun{c: c, ctx: ctx, st: st, rec: rec, o: o, stream: o.Prefix + "s", tr: &streamTracker{done: make(chan struct{}), progress: make(chan struct{}, 1)}}
	// The consume loops outlive the appends: they drain what was appended.
	consCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	r.stopConsumers = cancel
	for i := range c.consumers {
		g := st.Streams.Group("history", fmt.Sprintf("c%d", i))
		r.wg.Go(func() {
			var n atomic.Int64
			h := func(_ context.Context, e streams.Entry) error {
				var m streamMessage
				if err := e.Decode(&m); err != nil {
					return nil // not one of ours: CheckStream has nothing to say about it
				}
				if c.losing > 0 && n.Add(1)%int64(c.losing) == 0 {
					return nil // the planted defect: acked, never handled
				}
				r.tr.handle(m.P)
				return nil
			}
			for consCtx.Err() == nil {
				// A loop ends with an error when its group cannot be ensured (the server is
				// down, the breaker open): start it again after a moment.
				if err := g.Consume(consCtx, r.stream, h, streamConsumeOptions); err != nil {
					pause(consCtx, 20*time.Millisecond)
				}
			}
		})
	}
	return r
}

type streamRun struct {
	c             streamCell
	ctx           context.Context
	st            *client.Store
	rec           *Recorder
	o             RoundOptions
	stream        string
	tr            *streamTracker
	wg            sync.WaitGroup
	stopConsumers context.CancelFunc
}

func (r *streamRun) drive() {
	var seq atomic.Int64
	Drive(r.ctx, r.o.Seed, r.o.Clients, r.o.PerClient, func(ctx context.Context, client int, rng *rand.Rand) {
		payload := fmt.Sprintf("%sp%d", r.o.Prefix, seq.Add(1))
		p := r.rec.Call(client, StreamAppendInput{Stream: r.stream, Payload: payload})
		id, err := r.st.Streams.Append(ctx, r.stream, streamMessage{P: payload}, streams.AppendOptions{})
		p.Return(id, err)
		backOff(ctx, rng, err)
		pause(ctx, time.Duration(rng.IntN(2000))*time.Microsecond) // let the consumers keep up
	})
}

func (r *streamRun) verdict(ctx context.Context, round *Round) {
	recs := r.rec.Records()
	resets, lossy := r.rec.resetWindows(), r.rec.lossWindows()
	appends := make(map[string]Outcome, len(recs))
	var ok []string
	excused := 0
	for _, rec := range recs {
		in := rec.Input.(StreamAppendInput)
		o := rec.outcome(Classify)
		round.Stats.count(o)
		if o == OK && (wipedAfter(resets, rec.Call) || inWindows(lossy, rec)) {
			// A restart without persistence, or a failover with asynchronous replication, may
			// have lost it: documented.
			o = Unknown
			excused++
			round.Stats.Excused++
		}
		appends[in.Payload] = o
		if o == OK {
			ok = append(ok, in.Payload)
		}
	}
	began := time.Now()
	r.drain(ctx, r.tr.seal(ok))
	handled := r.tr.all()
	rep := CheckStream(appends, handled)
	var diag string
	if len(rep.Lost) > 0 && ctx.Err() == nil {
		diag = r.diagnose(ctx) // while the loops still run: what the group says of the missing entries
	}
	r.stopConsumers()
	r.wg.Wait()
	handled = r.tr.all()
	rep = CheckStream(appends, handled)
	round.Histories, round.Checked = len(resets)+1, len(handled)
	round.CheckTime = time.Since(began)
	round.Verdict = porcupine.Ok
	switch {
	case !rep.OK() && len(rep.Phantom) == 0 && ctx.Err() != nil:
		round.Verdict = porcupine.Unknown // interrupted before the drain: a missing entry proves nothing
		round.Report = fmt.Sprintf("stream %q: interrupted before every acknowledged append was handled\n", r.stream)
	case !rep.OK():
		round.Verdict = porcupine.Illegal
		round.Report = streamReport(r.stream, rep, recs) + diag
	case excused > 0:
		round.Report = fmt.Sprintf("stream %q: %d acknowledged appends called before a restart without persistence or during a failover's loss window counted as maybe lost\n", r.stream, excused)
	}
}

// diagnose returns what the group's state says about entries still missing: its lag and pending
// count (XINFO GROUPS) and its pending entries (XPENDING), by consumer and delivery count.
func (r *streamRun) diagnose(ctx context.Context) string {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	g := r.st.Streams.Group("history", "diagnose")
	var b strings.Builder
	lag, err := g.Lag(ctx, r.stream)
	fmt.Fprintf(&b, "  group \"history\" after the drain: lag %d, pending %d (err %v)\n", lag.Lag, lag.Pending, err)
	pending, err := g.Pending(ctx, r.stream, 1000)
	if err != nil {
		fmt.Fprintf(&b, "  XPENDING: %v\n", err)
	}
	for i, p := range pending {
		if i == concurrentOps {
			fmt.Fprintf(&b, "    … (%d pending)\n", len(pending))
			break
		}
		fmt.Fprintf(&b, "    pending %s at consumer %s, delivered %d times\n", p.ID, p.Consumer, p.Deliveries)
	}
	return b.String()
}

// drain waits until done is closed, ctx ends, StreamDrain passed, the group has nothing left
// to deliver, or nothing was handled for StreamQuiet.
func (r *streamRun) drain(ctx context.Context, done <-chan struct{}) {
	limit := time.NewTimer(StreamDrain)
	defer limit.Stop()
	quiet := time.NewTimer(StreamQuiet)
	defer quiet.Stop()
	poll := time.NewTicker(500 * time.Millisecond)
	defer poll.Stop()
	for {
		select {
		case <-done:
			return
		case <-ctx.Done():
			return
		case <-limit.C:
			return
		case <-quiet.C:
			return
		case <-r.tr.progress:
			quiet.Reset(StreamQuiet)
		case <-poll.C:
			if r.settled(ctx) {
				return
			}
		}
	}
}

// settled reports whether the group has nothing more to deliver: no lag, nothing pending. A
// handler records its entry before returning, and the entry stays pending until acked after.
func (r *streamRun) settled(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	lag, err := r.st.Streams.Group("history", "drain").Lag(ctx, r.stream)
	return err == nil && lag.Lag == 0 && lag.Pending == 0
}

// wipedAfter reports whether a reset began after call.
func wipedAfter(resets []window, call int64) bool {
	for _, w := range resets {
		if w.from > call {
			return true
		}
	}
	return false
}

// streamReport prints a broken stream's offending appends as they were recorded.
func streamReport(stream string, rep StreamReport, recs []Record) string {
	byPayload := make(map[string]Record, len(recs))
	for _, rec := range recs {
		byPayload[rec.Input.(StreamAppendInput).Payload] = rec
	}
	var b strings.Builder
	fmt.Fprintf(&b, "stream %q: %s", stream, rep)
	show := func(what string, payloads []string) {
		for i, p := range payloads {
			if i == concurrentOps {
				fmt.Fprintf(&b, "    …\n")
				return
			}
			rec, ok := byPayload[p]
			if !ok {
				fmt.Fprintf(&b, "    %s %q: never appended by this round\n", what, p)
				continue
			}
			fmt.Fprintf(&b, "    %s #%d client %d [%v, %v] append(%q) -> %s %v%v\n", what, rec.ID, rec.Client,
				time.Duration(rec.Call), time.Duration(rec.Return), p, Classify(rec.Err), rec.Output, errText(rec.Err))
		}
	}
	b.WriteString("  the offending appends:\n")
	show("lost", rep.Lost)
	show("phantom", rep.Phantom)
	return b.String()
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return "(" + err.Error() + ")"
}

// streamTracker collects the handled payloads and signals when every sealed one was handled.
type streamTracker struct {
	mu      sync.Mutex
	handled []string
	want    map[string]bool // nil until seal
	done    chan struct{}
	closed  bool
	// progress gets a token (when it has room) each time an entry is handled.
	progress chan struct{}
}

func (t *streamTracker) handle(p string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.handled = append(t.handled, p)
	select {
	case t.progress <- struct{}{}:
	default:
	}
	if t.want != nil {
		delete(t.want, p)
		t.closeIfDone()
	}
}

// seal sets the payloads to wait for and returns the channel closed once all were handled.
func (t *streamTracker) seal(want []string) <-chan struct{} {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.want = make(map[string]bool, len(want))
	for _, p := range want {
		t.want[p] = true
	}
	for _, p := range t.handled {
		delete(t.want, p)
	}
	t.closeIfDone()
	return t.done
}

func (t *streamTracker) closeIfDone() {
	if len(t.want) == 0 && !t.closed {
		t.closed = true
		close(t.done)
	}
}

func (t *streamTracker) all() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]string(nil), t.handled...)
}
