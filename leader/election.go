package leader

import (
	"context"
	"errors"
	"time"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/internal/pause"
	"github.com/igniter-go/store/ops"
)

// forever is the wait passed to Claim.Acquire by a campaign: only its ctx ends it.
const forever = time.Duration(1<<63 - 1)

// Election is one named election among the instances that share a store (and scope). Create
// one per process with [New]; it is safe for concurrent use, and holds no connection or
// goroutine of its own.
type Election struct {
	s    *client.Store
	name string
	o    Options
}

// Record is the leader record: who leads and with which fencing token.
type Record struct {
	// ID is the leader's [Options.ID].
	ID string `json:"id"`
	// Fence is the leader's fencing token ([Term.Fence]).
	Fence int64 `json:"fence"`
}

// New returns the election name on store s. An empty name, a nil store or invalid options are
// STORE_CONFIGURATION_INVALID.
func New(s *client.Store, name string, opts Options) (*Election, error) {
	if s == nil || name == "" {
		return nil, ops.Invalid(ops.CodeConfigurationInvalid, "leader.new", "leader.New needs a store and an election name", nil)
	}
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Election{s: s, name: name, o: o}, nil
}

// ID returns this candidate's id ([Options.ID] or the generated default).
func (e *Election) ID() string { return e.o.ID }

// Campaign waits until this candidate leads, then returns its [Term]. It tries to take the
// election's lease every RetryInterval while another candidate holds it, and keeps trying
// while Redis is unavailable (STORE_* errors of the ops.ErrUnavailable category). It returns
// when ctx ends (STORE_CANCELED or STORE_TIMEOUT) or on any other error (STORE_CLOSED…).
//
// A lease whose acquire reply arrives when less than TTL/3 of it is certainly left (counted
// from when the acquire was sent, less the drift margin; see the package doc) may already have
// expired and been won by another candidate: Campaign gives it back (if it is still ours),
// writes no leader record, and campaigns on. When Campaign returns a term, the leader record's
// first write has been attempted while the term's context was live; the record is advisory, so
// a failed write is not retried before Campaign returns (the term's goroutine writes it again
// every TTL/3), and the term may have ended since (a lost lease): check [Term.Context].
//
// ctx bounds the campaign only: the term lasts until it is lost or resigned ([Term.Resign]),
// and its context carries ctx's values but not its cancellation.
func (e *Election) Campaign(ctx context.Context) (*Term, error) {
	for {
		l, err := e.s.Claim.Acquire(ctx, e.name, e.o.TTL, client.AcquireOptions{Wait: forever, RetryInterval: e.o.RetryInterval})
		if err == nil {
			t, terr := e.begin(ctx, l)
			switch {
			case terr == nil:
				return t, nil
			case !ops.HasCode(terr, ops.CodeLeaseLost):
				return nil, terr
			}
			// The acquire's reply came too late to be sure the lease is still ours (another
			// candidate may lead already, with a larger fence): no term; campaign on.
			continue
		}
		if ctx.Err() != nil || !errors.Is(err, ops.ErrUnavailable) {
			return nil, err
		}
		if perr := pause.For(ctx, pause.Jitter(e.o.RetryInterval)); perr != nil {
			return nil, ops.Failure(ops.LeaseAcquire, ops.ErrCanceled, errors.Join(perr, err))
		}
	}
}

// Leader returns the current leader record; ok is false when nobody leads. The record is
// written by the leader when its term begins and every TTL/3 after, with the lease's TTL: it
// may name a leader that died up to TTL ago, and for up to TTL/3 after a change of leader it
// may still name the old one. It is for observing; guard writes with [Term.Fence], not with it.
func (e *Election) Leader(ctx context.Context) (r Record, ok bool, err error) {
	ok, err = e.s.KV.Get(ctx, e.recordKey(), &r)
	return r, ok, err
}

// Observe calls fn with the leader record each time it changes (and once at the start),
// polling every RetryInterval, until ctx ends; it then returns nil. ok is false while nobody
// leads. A failed read is skipped: fn sees only records that were read.
func (e *Election) Observe(ctx context.Context, fn func(r Record, ok bool)) error {
	var last Record
	lastOK, first := false, true
	for {
		r, ok, err := e.Leader(ctx)
		if err == nil && (first || ok != lastOK || r != last) {
			fn(r, ok)
			last, lastOK, first = r, ok, false
		}
		if pause.For(ctx, pause.Jitter(e.o.RetryInterval)) != nil {
			return nil
		}
	}
}

// Run campaigns and runs fn for each term this candidate wins, until ctx ends. fn gets the
// term's context, cancelled when the term ends (lost, or ctx ended), and must stop work that
// the leadership guards when it is. After a lost term Run campaigns again; when ctx ends it
// resigns and returns nil. When fn returns while its term is still held, Run resigns and
// returns fn's error, or, when fn returned nil, the resignation's ([Term.Err]: nil, or the
// error of a release that failed): that is how a job ends its leadership. When fn panics or
// calls runtime.Goexit, Run ends the term first (it resigns: the record is removed and the
// lease released, so another candidate can win at once) and lets the panic (or exit) go on: fn
// runs on the caller's goroutine, so the panic is the caller's, as from any Go call.
//
// This replaces the original's cron recipe (claim once per run): the job runs in exactly one
// instance at a time, even when it outlives the lease's TTL, and the next instance takes over
// within TTL when it dies.
func (e *Election) Run(ctx context.Context, fn func(ctx context.Context, t *Term) error) error {
	for {
		t, err := e.Campaign(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		stop := context.AfterFunc(ctx, t.end) // ctx ending ends the term
		ferr := callTerm(ctx, t, fn, stop)
		held := t.Context().Err() == nil
		rerr := t.Resign(context.WithoutCancel(ctx))
		switch {
		case ctx.Err() != nil:
			return nil
		case held:
			if ferr != nil {
				return ferr
			}
			return rerr
		}
	}
}

// callTerm runs fn for term t on the caller's goroutine. If fn panics or calls runtime.Goexit,
// the term ends first (its context cancelled, the record removed, the lease released: another
// candidate can win at once), then the panic (or exit) goes on, as it would from any Go call: fn
// is the caller's code, on the caller's goroutine. However fn ends, callTerm calls stop (Run's
// AfterFunc that ends the term when ctx ends), so no registration outlives the term.
func callTerm(ctx context.Context, t *Term, fn func(ctx context.Context, t *Term) error, stop func() bool) error {
	defer stop()
	returned := false
	defer func() {
		if !returned { // a panic or runtime.Goexit; either goes on after this
			_ = t.Resign(context.WithoutCancel(ctx))
		}
	}()
	err := fn(t.Context(), t)
	returned = true
	return err
}

func (e *Election) recordKey() string { return e.name + ":leader" }
