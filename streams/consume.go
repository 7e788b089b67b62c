package streams

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/igniter-go/store/internal/codec"
	"github.com/igniter-go/store/internal/executor"
	"github.com/igniter-go/store/internal/goid"
	"github.com/igniter-go/store/internal/keyspace"
	"github.com/igniter-go/store/internal/pause"
	"github.com/igniter-go/store/ops"
)

// Handler handles one entry of a consume loop. Returning nil acks the entry. An error or a
// panic leaves it pending, to be delivered again after ConsumeOptions.ClaimIdle, until
// ConsumeOptions.MaxDeliveries sends it to the dead-letter stream.
type Handler func(ctx context.Context, e Entry) error

// DeadLetter is the message of an entry of a dead-letter stream (ConsumeOptions.DeadLetter).
type DeadLetter struct {
	// Stream, Group and Consumer say where the entry was consumed.
	Stream   string `json:"stream"`
	Group    string `json:"group"`
	Consumer string `json:"consumer"`
	// ID is the entry's id in its original stream.
	ID string `json:"id"`
	// Error is the last failure.
	Error string `json:"error"`
	// Deliveries is how many times the entry was delivered to the group.
	Deliveries int64 `json:"deliveries"`
	// Message is the entry's message, as [Entry.Message].
	Message json.RawMessage `json:"message"`
	// History is the entry's earlier dead-letter history when it was redriven before
	// ([RedriveHistoryField], a JSON array of [DeadLetterRecord]); absent otherwise.
	History json.RawMessage `json:"history,omitempty"`
}

// maxClaimRounds bounds one claim pass, so reading new entries is never starved.
const maxClaimRounds = 16

// Consume runs a consume loop for this consumer on stream until ctx is done or the store is
// closed. It ensures the group first ([Group.Ensure] with opts.EnsureStartID), then reads
// new entries and runs h on each, at most opts.Concurrency at once, on connections of its own:
//   - an entry is acked after h returns nil; an error or panic leaves it pending;
//   - entries pending longer than opts.ClaimIdle (failed ones, and those of consumers that died)
//     are claimed with XAUTOCLAIM and delivered again; the entries the loop holds (running or
//     queued) have their idle time reset every ClaimIdle/3 (XCLAIM … JUSTID, which leaves their
//     delivery count alone), so no consumer claims an entry whose handler still runs, and the
//     loop never dead-letters or re-runs an entry it holds;
//   - an entry that reaches opts.MaxDeliveries goes to the dead-letter stream ([DeadLetter]) and
//     is acked;
//   - an entry a [Streams.Redrive] sent back for another group ([RedriveGroupField]) is acked
//     without calling h (this group had it when it was first appended) and reported as
//     ops.SignalRedriveSkipped;
//   - the trace context an entry carries (its trace field) is extracted into h's ctx;
//   - every step is reported to the store's observers: ops.SignalConsumed, SignalHandlerFailed,
//     SignalRedelivered, SignalReclaimed, SignalDeadLettered, SignalConsumerLag every
//     opts.LagInterval (measured after a read), and SignalConsumerStopped when the store's last
//     loop on the group ends; each carries the group instance's opaque Source (a signal from a
//     handler that outlived the loop carries none), which metrics use to delete a stream's series
//     when its last loop ends.
//
// Goroutines: h runs on the loop's opts.Concurrency worker goroutines; reads, claims and lag
// reports on the goroutine that called Consume; acks and the refresh of entries in flight on one
// goroutine each. Observers and the logger are called from all of them.
//
// A group that disappears while the loop runs (XGROUP DESTROY; a Redis restart without
// persistence, which loses the stream too) is re-created at the last id the loop read, so what it
// has seen is not delivered again and what was appended since is not skipped (entries that were
// pending in the lost group are lost with it; with several consumers, entries between their last
// ids may be delivered again, never skipped). A loop that has read nothing yet re-creates it at
// opts.EnsureStartID. A process that restarts has no memory of its last id: Consume ensures the
// group with opts.EnsureStartID, and an existing group keeps its position.
//
// When ctx is done the loop stops reading, waits for the handlers in flight (their ctx is ctx, so
// they see the cancellation), acks those that succeeded, and returns nil; entries it read but
// did not finish stay pending for the group's other consumers; a handler that ignores its ctx is
// waited for at most opts.StopGrace. client.Store.Close stops every loop the same way, and Consume
// then returns STORE_CLOSED (a handler may call Close: Close does not wait for it).
//
// An entry larger than the store's maximum inbound payload (client.Builder.WithMaxPayload,
// default 1 MiB) is never decoded nor handed to h: it is reported (SignalMessageInvalid,
// STORE_MESSAGE_INVALID wrapping [ErrEntryTooLarge]), dead-lettered without its message, and
// acked. Delivery is at least once: a handler should be idempotent. An handler
// adapter has no connections for the loop: STORE_NOT_CONNECTED.
func (g Group) Consume(ctx context.Context, stream string, h Handler, opts ConsumeOptions) error {
	s := g.s
	if err := g.check(ops.StreamRead, stream, true); err != nil {
		return err
	}
	if h == nil {
		return ops.Invalid(ops.CodeConfigurationInvalid, "stream.consume", "a consume handler is required", nil)
	}
	o, err := opts.withDefaults(stream)
	if err != nil {
		return err
	}
	st := s.Blocking()
	if !st.Connected() {
		return ops.NewError(ops.CodeNotConnected, "stream.consume",
			"a consume loop needs a go-redis adapter; an HandlerAdapter adapter has no connections of its own", nil)
	}
	if !st.StartLoop() {
		return ops.Closed(ops.StreamRead)
	}
	defer st.LoopDone()
	if err := g.Ensure(ctx, stream, EnsureOptions{StartID: o.EnsureStartID}); err != nil {
		return err
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stop := st.AfterClose(func() { cancel(ops.Closed(ops.StreamRead)) })
	defer stop()
	source, release := s.GroupSource(s.Key(keyspace.NamespaceStreams, stream), g.group)
	defer func() {
		if release() { // the group instance's last loop here: its gauges go
			s.Signal(context.WithoutCancel(ctx), ops.Signal{Kind: ops.SignalConsumerStopped, Name: stream, Group: g.group, Source: source})
		}
	}()
	c := newConsumer(g, stream, h, o)
	c.source = source
	defer c.end() // before the stopped signal: nothing after it carries the source
	c.run(ctx)
	if cause := context.Cause(ctx); ops.HasCode(cause, ops.CodeClosed) {
		return cause
	}
	return nil
}

// ConsumeAs is [Group.Consume] with each message decoded into a T. A message that does not
// decode is reported (ops.SignalMessageInvalid) and goes to the dead-letter stream at once:
// delivering it again cannot help.
func ConsumeAs[T any](ctx context.Context, g Group, stream string, h func(ctx context.Context, m Message[T]) error, opts ConsumeOptions) error {
	if h == nil {
		return ops.Invalid(ops.CodeConfigurationInvalid, "stream.consume", "a consume handler is required", nil)
	}
	return g.Consume(ctx, stream, func(ctx context.Context, e Entry) error {
		m := decodeMessage[T](e)
		if m.Err != nil {
			err := ops.NewError(ops.CodeMessageInvalid, "stream.consume", "the entry's message does not decode", m.Err)
			g.s.Signal(ctx, ops.Signal{Kind: ops.SignalMessageInvalid, Name: stream, Group: g.group, Err: err})
			return err
		}
		return h(ctx, m)
	}, opts)
}

type consumer struct {
	g      Group
	stream string
	h      Handler
	o      ConsumeOptions
	// credits holds one token per entry the loop holds (queued or being handled): at most
	// Concurrency+Batch, so a read never takes more than the workers can soon start.
	credits chan struct{}
	work    chan delivery // entries for the workers; never blocks a sender that holds a credit
	workers []worker

	mu       sync.Mutex
	inflight map[string]struct{} // ids queued or being handled, so a claim never runs one twice at once

	lastRead string // id of the last entry the loop read as new: where a lost group is re-created
	source   uint64 // the group instance's opaque identity (ops.Signal.Source)

	sigMu sync.RWMutex // end waits for the signals being sent
	ended bool         // the loop has ended: signals carry no source

	ackMu   sync.Mutex
	acks    []handled     // handled entries waiting for the next XACK
	ackWake chan struct{} // capacity 1: there are acks to send
}

// delivery is one entry for a worker, with how many times the group has delivered it.
type delivery struct {
	entry      ops.Entry
	deliveries int64
}

// handled is an entry whose handler succeeded, waiting to be acked. ctx is the handler's, kept
// only until the ack is sent, so the Consumed signal links to the handler's trace.
type handled struct {
	ctx  context.Context
	id   string
	took time.Duration
	// skipped: a redriven entry of another group, acked without calling the handler.
	skipped bool
}

func newConsumer(g Group, stream string, h Handler, o ConsumeOptions) *consumer {
	held := o.Concurrency + int(o.Batch)
	return &consumer{g: g, stream: stream, h: h, o: o, credits: make(chan struct{}, held), work: make(chan delivery, held),
		inflight: map[string]struct{}{}, ackWake: make(chan struct{}, 1)}
}

// signal reports s to the store's observers with the loop's group instance (ops.Signal.Source),
// which keeps the instance's metric series alive until its SignalConsumerStopped. A signal after
// the loop ended (from a handler that outlived StopGrace) carries none, so it cannot bring back
// series that the stopped signal deleted.
func (c *consumer) signal(ctx context.Context, s ops.Signal) {
	c.sigMu.RLock()
	defer c.sigMu.RUnlock()
	if !c.ended {
		s.Source = c.source
	}
	c.g.s.Signal(ctx, s)
}

// end marks the loop ended, once every signal being sent has been.
func (c *consumer) end() {
	c.sigMu.Lock()
	c.ended = true
	c.sigMu.Unlock()
}

func (c *consumer) run(ctx context.Context) {
	c.workers = make([]worker, c.o.Concurrency)
	for i := range c.workers {
		w := &c.workers[i]
		w.exited = make(chan struct{})
		go func() {
			defer close(w.exited)
			w.gid.Store(goid.Current())
			c.worker(ctx)
		}()
	}
	stopAcks, acksDone := make(chan struct{}), make(chan struct{})
	go c.ackLoop(context.WithoutCancel(ctx), stopAcks, acksDone)
	stopTouch, touchDone := make(chan struct{}), make(chan struct{})
	go c.touchLoop(context.WithoutCancel(ctx), stopTouch, touchDone)
	defer func() {
		close(c.work)
		c.awaitWorkers(ctx)
		close(stopTouch)
		<-touchDone
		close(stopAcks)
		<-acksDone
	}()
	c.read(ctx)
}

// worker is one handler goroutine of a loop.
type worker struct {
	gid    atomic.Uint64 // its goroutine id (internal/goid), once it runs
	exited chan struct{} // closed when it returns
}

// awaitWorkers waits for the workers to finish their entries, at most StopGrace: a handler that
// ignores its canceled ctx is reported and left behind (its entry stays pending). A handler that
// called the store's Close is not waited for: it is waiting for this loop.
func (c *consumer) awaitWorkers(ctx context.Context) {
	t := time.NewTimer(c.o.StopGrace)
	defer t.Stop()
	for i := range c.workers {
		w := &c.workers[i]
		if closer := c.g.s.Closer(); closer != 0 && w.gid.Load() == closer {
			continue
		}
		select {
		case <-w.exited:
			continue
		case <-t.C:
			c.g.s.Logger().LogAttrs(context.WithoutCancel(ctx), slog.LevelError,
				"igniter store: consume: handlers still running after the loop stopped; they ignore their ctx",
				slog.String("stream", c.stream), slog.String("group", c.g.group), slog.Duration("waited", c.o.StopGrace))
		}
		return
	}
}

// read reads new entries for the workers until ctx ends, with a claim pass every ClaimInterval
// and a lag report every LagInterval in between.
func (c *consumer) read(ctx context.Context) {
	nextClaim, nextLag := time.Now(), time.Now()
	for ctx.Err() == nil {
		if now := time.Now(); c.o.ClaimIdle > 0 && !now.Before(nextClaim) {
			c.claim(ctx)
			nextClaim = time.Now().Add(c.o.ClaimInterval)
		}
		n := c.acquire(ctx, c.o.Batch)
		if n == 0 {
			return
		}
		block := c.o.Block
		if c.o.ClaimIdle > 0 {
			block = min(block, max(time.Until(nextClaim), time.Millisecond))
		}
		res, err := c.g.read(ctx, c.stream, ReadOptions{Count: n, Block: block})
		if err != nil || ctx.Err() != nil {
			// Entries read as ctx ended stay pending; another consumer claims them.
			c.release(n)
			if ctx.Err() == nil {
				c.log(ctx, "stream read failed; retrying", err)
				_ = pause.For(ctx, c.o.Block) // a ctx that ends is seen by the loop
				if errors.Is(err, ops.ErrFailed) {
					// Redis refused the read: the group (or the stream) may be gone, after a
					// restart without persistence or a DEL. Ensure is idempotent.
					ectx, cancel := c.bounded(ctx)
					err := c.g.Ensure(ectx, c.stream, EnsureOptions{StartID: c.resumeID()})
					cancel()
					if err != nil && ctx.Err() == nil {
						c.log(ctx, "re-creating the group failed", err)
					}
				}
			}
			continue
		}
		if len(res.Entries) > 0 {
			c.lastRead = res.Entries[len(res.Entries)-1].ID // XREADGROUP > returns them in id order
		}
		for _, e := range res.Entries {
			c.dispatch(ctx, e, 1)
		}
		c.release(n - int64(len(res.Entries)))
		// After the read, so a report counts what this read just took as delivered, not as lag.
		if now := time.Now(); c.o.LagInterval > 0 && !now.Before(nextLag) {
			c.reportLag(ctx)
			nextLag = time.Now().Add(c.o.LagInterval)
		}
	}
}

// resumeID is where the loop re-creates a group that disappeared under it: right after the last
// entry it read, so nothing it has seen is delivered again and nothing appended since is skipped;
// EnsureStartID while it has read nothing.
func (c *consumer) resumeID() string {
	if c.lastRead != "" {
		return c.lastRead
	}
	return c.o.EnsureStartID
}

// touchEvery is how often the loop refreshes its entries in flight: a third of ClaimIdle, so an
// entry whose handler (or queue wait) runs long never reaches ClaimIdle.
func (c *consumer) touchEvery() time.Duration {
	return max(c.o.ClaimIdle/3, time.Millisecond)
}

// touchLoop refreshes the entries in flight every touchEvery until stop, on its own goroutine:
// neither a blocking read nor a claim pass delays it. Claiming off (ClaimIdle < 0): nothing to do.
func (c *consumer) touchLoop(ctx context.Context, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	if c.o.ClaimIdle <= 0 {
		return
	}
	t := time.NewTicker(c.touchEvery())
	defer t.Stop()
	for {
		select {
		case <-t.C:
			c.touchInFlight(ctx)
		case <-stop:
			return
		}
	}
}

// touchInFlight resets the idle time of every entry this loop holds (queued or being handled), so
// that no claim pass, of this consumer or another, takes an entry whose handler is still running.
func (c *consumer) touchInFlight(ctx context.Context) {
	c.mu.Lock()
	if len(c.inflight) == 0 {
		c.mu.Unlock()
		return
	}
	ids := make([]string, 0, len(c.inflight))
	for id := range c.inflight {
		ids = append(ids, id)
	}
	c.mu.Unlock()
	tctx, cancel := c.bounded(ctx)
	defer cancel()
	if err := c.g.touch(tctx, c.stream, ids); err != nil && ctx.Err() == nil {
		c.log(ctx, "refreshing the entries in flight failed", err)
	}
}

// bounded returns ctx with the deadline of an ack or a touch: Block plus blockReadMargin, like a
// read. Stopping a loop waits for the ack and the touch in flight, and go-redis ends neither when
// a ctx is canceled, so on a server that stopped answering this deadline is what bounds the stop.
func (c *consumer) bounded(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, c.o.Block+blockReadMargin)
}

// acquire takes at least one credit, waiting for it, and up to most; it returns how many it
// took, 0 when ctx ended first.
func (c *consumer) acquire(ctx context.Context, most int64) int64 {
	select {
	case c.credits <- struct{}{}:
	case <-ctx.Done():
		return 0
	}
	n := int64(1)
	for n < most {
		select {
		case c.credits <- struct{}{}:
			n++
		default:
			return n
		}
	}
	return n
}

func (c *consumer) release(n int64) {
	for range n {
		<-c.credits
	}
}

// dispatch queues e for a worker; the caller holds one credit for it, which the worker returns.
func (c *consumer) dispatch(_ context.Context, e ops.Entry, deliveries int64) {
	c.mu.Lock()
	if _, busy := c.inflight[e.ID]; busy {
		c.mu.Unlock()
		c.release(1)
		return
	}
	c.inflight[e.ID] = struct{}{}
	c.mu.Unlock()
	c.work <- delivery{entry: e, deliveries: deliveries}
}

func (c *consumer) worker(ctx context.Context) {
	for d := range c.work {
		switch {
		case ctx.Err() != nil: // after the end, queued entries stay pending for another consumer
		case redrivenFor(d.entry.Fields, c.g.group):
			// Redriven for another group: this group had the entry when it was first appended.
			c.ackLater(handled{ctx: ctx, id: d.entry.ID, skipped: true})
		case entrySize(d.entry) > c.g.s.MaxPayload():
			c.tooLarge(ctx, d.entry, d.deliveries)
		default:
			c.handle(ctx, parseEntry(d.entry.ID, d.entry.Fields), d.deliveries)
		}
		c.mu.Lock()
		delete(c.inflight, d.entry.ID)
		c.mu.Unlock()
		c.release(1)
	}
}

func (c *consumer) handle(ctx context.Context, e Entry, deliveries int64) {
	s := c.g.s
	hctx := s.Extract(ctx, e.Fields[executor.StreamTraceField])
	start := time.Now()
	err := c.call(hctx, e)
	took := time.Since(start)
	// Acks and dead-letters go out even while the loop shuts down.
	done := context.WithoutCancel(hctx)
	if err == nil {
		c.ackLater(handled{ctx: hctx, id: e.ID, took: took})
		return
	}
	c.signal(hctx, ops.Signal{Kind: ops.SignalHandlerFailed, Name: c.stream, Group: c.g.group, Duration: took, Err: err})
	if ctx.Err() == nil && (deliveries >= c.o.MaxDeliveries || errIsMessageInvalid(err)) {
		c.deadLetter(done, e, deliveries, err)
		return
	}
	c.signal(hctx, ops.Signal{Kind: ops.SignalRedelivered, Name: c.stream, Group: c.g.group, N: deliveries, Err: err})
}

// ErrEntryTooLarge is the cause of the STORE_MESSAGE_INVALID a consume loop reports for an entry
// larger than the store's maximum inbound payload (client.Builder.WithMaxPayload).
var ErrEntryTooLarge = errors.New("stream entry larger than the maximum inbound payload")

// entrySize is the size of an entry's fields, names and values.
func entrySize(e ops.Entry) int {
	n := 0
	for k, v := range e.Fields {
		n += len(k) + len(v)
	}
	return n
}

// errEntryTooLarge is the STORE_MESSAGE_INVALID of an entry of size bytes over the limit.
func errEntryTooLarge(size, limit int) error {
	return ops.NewError(ops.CodeMessageInvalid, "stream.consume",
		fmt.Sprintf("entry of %d bytes not decoded: the maximum inbound payload is %d", size, limit), ErrEntryTooLarge)
}

// tooLarge drops an entry larger than the maximum payload without decoding it or calling the
// handler: it is reported (message_invalid), dead-lettered without its message, and acked.
func (c *consumer) tooLarge(ctx context.Context, e ops.Entry, deliveries int64) {
	err := errEntryTooLarge(entrySize(e), c.g.s.MaxPayload())
	c.signal(ctx, ops.Signal{Kind: ops.SignalMessageInvalid, Name: c.stream, Group: c.g.group, Err: err})
	c.deadLetter(context.WithoutCancel(ctx), Entry{ID: e.ID}, deliveries, err)
}

// call runs the handler; an error or a panic becomes STORE_HANDLER_FAILED wrapping it.
func (c *consumer) call(ctx context.Context, e Entry) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = ops.NewError(ops.CodeHandlerFailed, "stream.consume", fmt.Sprintf("handler panicked: %v", r), nil)
		}
	}()
	if err := c.h(ctx, e); err != nil {
		return ops.NewError(ops.CodeHandlerFailed, "stream.consume", "handler failed", err)
	}
	return nil
}

// ackLater queues a handled entry for the ack loop.
func (c *consumer) ackLater(h handled) {
	c.ackMu.Lock()
	c.acks = append(c.acks, h)
	c.ackMu.Unlock()
	select {
	case c.ackWake <- struct{}{}:
	default:
	}
}

// ackLoop acks handled entries: one XACK for all that are waiting, so while one XACK is on the
// wire the next batch gathers (group commit, no timer). At stop it sends what is left.
func (c *consumer) ackLoop(ctx context.Context, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	for {
		select {
		case <-c.ackWake:
			c.flushAcks(ctx)
		case <-stop:
			c.flushAcks(ctx)
			return
		}
	}
}

func (c *consumer) flushAcks(ctx context.Context) {
	c.ackMu.Lock()
	batch := c.acks
	c.acks = nil
	c.ackMu.Unlock()
	if len(batch) == 0 {
		return
	}
	ids := make([]string, len(batch))
	for i, h := range batch {
		ids[i] = h.id
	}
	actx, cancel := c.bounded(ctx)
	err := c.ack(actx, ids...)
	cancel()
	if err != nil {
		c.log(ctx, "ack failed; the entries will be delivered again", err)
		return
	}
	for _, h := range batch {
		if h.skipped {
			c.signal(h.ctx, ops.Signal{Kind: ops.SignalRedriveSkipped, Name: c.stream, Group: c.g.group})
			continue
		}
		c.signal(h.ctx, ops.Signal{Kind: ops.SignalConsumed, Name: c.stream, Group: c.g.group, Duration: h.took})
	}
}

// ack sends XACK through the chain. It skips the store's closed check (not the chain): during
// Close the loop drains its handlers, and their acks must still go out.
func (c *consumer) ack(ctx context.Context, ids ...string) error {
	op := c.g.op(ops.StreamAck, c.stream)
	op.Idempotent = true
	op.Stream.IDs = ids
	op.N = int64(len(ids))
	_, err := c.g.s.DoDraining(ctx, op)
	return err
}

// deadLetter adds e to the dead-letter stream, then acks it. If either fails, the entry stays
// pending and a later claim pass tries again (a dead letter may then be written twice, never
// lost).
func (c *consumer) deadLetter(ctx context.Context, e Entry, deliveries int64, cause error) {
	s := c.g.s
	dl := DeadLetter{Stream: c.stream, Group: c.g.group, Consumer: c.g.consumer, ID: e.ID, Error: cause.Error(),
		Deliveries: deliveries, Message: e.Message, History: historyField(e.Fields)}
	op := streamOp(s, ops.StreamAppend, c.o.DeadLetter)
	op.Stream = &ops.StreamArgs{}
	var err error
	if op.Value, err = codec.EncodeFor(ops.StreamAppend, dl); err == nil {
		_, err = s.DoDraining(s.WithEntryTrace(ctx), op)
	}
	if err == nil {
		err = c.ack(ctx, e.ID)
	}
	if err != nil {
		c.log(ctx, "dead-lettering failed; the entry stays pending", err)
		return
	}
	c.signal(ctx, ops.Signal{Kind: ops.SignalDeadLettered, Name: c.stream, Group: c.g.group, N: deliveries, Err: cause})
}

// claim claims entries idle for longer than ClaimIdle, in rounds of at most Batch, and delivers
// them again, or dead-letters those delivered more than MaxDeliveries times.
func (c *consumer) claim(ctx context.Context) {
	c.touchInFlight(ctx) // what this loop holds is not idle, whatever the touch cadence was
	cursor := "0-0"
	for range maxClaimRounds {
		n := c.acquire(ctx, c.o.Batch)
		if n == 0 {
			return
		}
		actx, cancel := c.bounded(ctx)
		entries, next, err := c.g.autoclaim(actx, c.stream, cursor, c.o.ClaimIdle, n)
		cancel()
		if err != nil {
			c.release(n)
			if ctx.Err() == nil {
				c.log(ctx, "claiming idle entries failed", err)
			}
			return
		}
		c.release(n - int64(len(entries)))
		if len(entries) > 0 {
			c.signal(ctx, ops.Signal{Kind: ops.SignalReclaimed, Name: c.stream, Group: c.g.group, N: int64(len(entries))})
		}
		counts := c.deliveryCounts(ctx, entries)
		for _, e := range entries {
			c.redeliver(ctx, e, counts)
		}
		if cursor = next; cursor == "0-0" {
			return
		}
	}
}

// deliveryCounts looks up the delivery counts of claimed entries with one XPENDING over their
// id range (XAUTOCLAIM returns them in id order, now owned by this consumer). The range may hold
// other entries of this consumer too; an entry the answer misses is looked up on its own.
func (c *consumer) deliveryCounts(ctx context.Context, entries []ops.Entry) map[string]int64 {
	if len(entries) == 0 {
		return nil
	}
	count := int64(len(entries)) + int64(cap(c.credits)) + 64
	dctx, cancel := c.bounded(ctx)
	counts, err := c.g.deliveriesIn(dctx, c.stream, entries[0].ID, entries[len(entries)-1].ID, count)
	cancel()
	if err != nil {
		return nil
	}
	return counts
}

// redeliver handles a claimed entry, which holds one slot. An entry this loop still holds (its
// handler runs, or it waits for one) is left alone: it is never dead-lettered or handed to a second
// handler while in flight; its handler's outcome decides.
func (c *consumer) redeliver(ctx context.Context, e ops.Entry, counts map[string]int64) {
	c.mu.Lock()
	_, busy := c.inflight[e.ID]
	c.mu.Unlock()
	if busy {
		c.release(1)
		return
	}
	d, known := counts[e.ID]
	var err error
	if !known {
		dctx, cancel := c.bounded(ctx)
		d, err = c.g.deliveries(dctx, c.stream, e.ID)
		cancel()
	}
	switch {
	case err != nil: // it stays pending, claimed again later
		c.release(1)
		c.log(ctx, "reading an entry's delivery count failed", err)
	case d == 0: // acked meanwhile
		c.release(1)
	case redrivenFor(e.Fields, c.g.group): // never this group's to dead-letter: the worker acks it
		c.dispatch(ctx, e, d)
	case d > c.o.MaxDeliveries: // its consumers died holding it, or its last failure was not dead-lettered
		c.release(1)
		cause := ops.NewError(ops.CodeHandlerFailed, "stream.consume",
			fmt.Sprintf("delivered %d times without success", d-1), nil)
		c.deadLetter(context.WithoutCancel(ctx), parseEntry(e.ID, e.Fields), d-1, cause)
	default:
		c.dispatch(ctx, e, d)
	}
}

func (c *consumer) reportLag(ctx context.Context) {
	lctx, cancel := c.bounded(ctx)
	lag, err := c.g.Lag(lctx, c.stream)
	cancel()
	if err != nil {
		if ctx.Err() == nil {
			c.log(ctx, "reading the group's lag failed", err)
		}
		return
	}
	c.signal(ctx, ops.Signal{Kind: ops.SignalConsumerLag, Name: c.stream, Group: c.g.group, N: lag.Lag, M: lag.Pending})
}

func (c *consumer) log(ctx context.Context, msg string, err error) {
	c.g.s.Logger().LogAttrs(ctx, slog.LevelWarn, "igniter store: consume: "+msg,
		slog.String("stream", c.stream), slog.String("group", c.g.group), slog.String("error", errorText(err)))
}

func errorText(err error) string {
	if err == nil {
		return ""
	}
	var e *ops.Error
	if errors.As(err, &e) {
		return string(e.Code)
	}
	return err.Error()
}
