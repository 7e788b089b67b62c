package history

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/leader"
)

// LeaderCandidate is one candidate of an election under test: the leader package's, or one
// known to break it.
type LeaderCandidate interface {
	// Campaign waits until the candidate leads and returns its term; an error when ctx ends.
	Campaign(ctx context.Context) (LeaderTerm, error)
}

// LeaderTerm is a term a [LeaderCandidate] won.
type LeaderTerm interface {
	Fence() int64
	// Context ends when the leader finds it can no longer be sure of its lease: its work must
	// stop then (the validity the leader computes).
	Context() context.Context
	// Resign ends the term and gives the lease back.
	Resign(ctx context.Context) error
}

// StoreCandidate is a [leader.Election] as a [LeaderCandidate].
type StoreCandidate struct{ Election *leader.Election }

// Campaign is [leader.Election.Campaign].
func (c StoreCandidate) Campaign(ctx context.Context) (LeaderTerm, error) {
	t, err := c.Election.Campaign(ctx)
	if err != nil {
		return nil, err
	}
	return t, nil
}

// LeaderTTL is the leader cell's lease TTL: terms are lost (a delayed or lost extension, a
// frozen server) and won again many times within a round of a few seconds.
const LeaderTTL = 300 * time.Millisecond

// TermInput is a recorded term: its candidate and fence; the record's call and return are the
// term's start and end. TermOutput says how it ended.
type (
	TermInput  struct{ Fence int64 }
	TermOutput struct{ Lost, Dead bool }
)

// LeaderCell is the leader election (package leader) on one election name: each client is a
// candidate (an [leader.Election] with [LeaderTTL] on the round's store) that campaigns, holds
// its term for a random while (up to half a TTL two times in three, else one to two TTLs, kept
// alive by the term's extensions) or until the term is lost, resigns, and campaigns again after
// up to half a TTL. Each term is recorded from Campaign's return to the end of its work: when
// its context ended (the validity the leader computed) or when the candidate chose to resign.
// [CheckTerms] then checks that no two terms were live at once and that fences strictly increase
// in the order terms began; a term live while Redis may have lost the lease (a restart without
// persistence, a failover's loss window) may overlap the next one, as package leader documents.
// A lost reply picks EVALSHA (the lease scripts: acquire, extend, release).
func LeaderCell() Cell {
	return leaderCell{label: "leader", candidates: func(st *client.Store, name string, n int) ([]LeaderCandidate, error) {
		out := make([]LeaderCandidate, n)
		for i := range out {
			el, err := leader.New(st, name, leader.Options{TTL: LeaderTTL, ID: fmt.Sprintf("c%d", i)})
			if err != nil {
				return nil, err
			}
			out[i] = StoreCandidate{Election: el}
		}
		return out, nil
	}}
}

// leaderCell is a cell of n candidates made by candidates on the round's store; hold draws how
// long a candidate keeps a term (nil: mixedHold).
type leaderCell struct {
	label      string
	candidates func(st *client.Store, name string, n int) ([]LeaderCandidate, error)
	hold       func(rng *rand.Rand) time.Duration
}

// mixedHold keeps two terms in three for up to half a TTL, and one for one to two TTLs (it
// outlives the lease's TTL, kept alive by the term's extensions).
func mixedHold(rng *rand.Rand) time.Duration {
	if rng.IntN(3) == 0 {
		return LeaderTTL + time.Duration(rng.Int64N(int64(LeaderTTL)))
	}
	return time.Duration(rng.Int64N(int64(LeaderTTL / 2)))
}

func (c leaderCell) name() string       { return c.label }
func (c leaderCell) commands() []string { return []string{"evalsha"} }

func (c leaderCell) start(ctx context.Context, st *client.Store, rec *Recorder, o RoundOptions) roundRun {
	cands, err := c.candidates(st, o.Prefix+"leader", o.Clients)
	return &leaderRun{c: c, ctx: ctx, rec: rec, o: o, cands: cands, err: err}
}

type leaderRun struct {
	c     leaderCell
	ctx   context.Context
	rec   *Recorder
	o     RoundOptions
	cands []LeaderCandidate
	err   error
}

func (r *leaderRun) drive() {
	var wg sync.WaitGroup
	for i, cand := range r.cands {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(r.o.Seed, uint64(i)+1))
			for r.ctx.Err() == nil {
				term, err := cand.Campaign(r.ctx)
				if err != nil {
					backOff(r.ctx, rng, err) // the round ended, or the store refused: campaign again
					continue
				}
				hold := r.c.hold
				if hold == nil {
					hold = mixedHold
				}
				r.hold(i, term, hold(rng))
				// A candidate that just resigned waits a moment before campaigning again, so
				// the others win terms too.
				pause(r.ctx, time.Duration(rng.Int64N(int64(LeaderTTL/2))))
			}
		})
	}
	wg.Wait()
}

// hold records term from now until its work stops: its context ends (lost), hold passes or the
// round ends (it resigns, its work stopped first).
func (r *leaderRun) hold(client int, term LeaderTerm, hold time.Duration) {
	p := r.rec.Call(client, TermInput{Fence: term.Fence()})
	if term.Context().Err() != nil {
		// It ended before Campaign returned (package leader: "check Term.Context"): no work
		// ran under it. Checked after Call: a context live now was live since the term began.
		p.Return(TermOutput{Lost: true, Dead: true}, nil)
		_ = term.Resign(context.WithoutCancel(r.ctx))
		return
	}
	t := time.NewTimer(hold)
	defer t.Stop()
	lost := false
	select {
	case <-term.Context().Done():
		lost = true
	case <-t.C:
	case <-r.ctx.Done():
	}
	p.Return(TermOutput{Lost: lost}, nil)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.ctx), time.Second)
	defer cancel()
	_ = term.Resign(ctx)
}

func (r *leaderRun) verdict(_ context.Context, round *Round) {
	if r.err != nil {
		round.Err = r.err
		return
	}
	began := time.Now()
	var terms []Term
	for _, rec := range r.rec.Records() {
		if rec.Return < 0 {
			continue // still held: the candidate is resigning (it cannot be: hold returned)
		}
		round.Stats.count(OK)
		if rec.Output.(TermOutput).Dead {
			continue
		}
		terms = append(terms, Term{ID: rec.ID, Candidate: rec.Client, Fence: rec.Input.(TermInput).Fence,
			Start: rec.Call, End: rec.Return, Lost: rec.Output.(TermOutput).Lost})
	}
	rep := checkTerms(terms, append(r.rec.resetWindows(), r.rec.lossWindows()...))
	round.Histories, round.Checked, round.CheckTime = 1, len(terms), time.Since(began)
	round.Verdict = porcupine.Ok
	switch {
	case !rep.OK():
		round.Verdict = porcupine.Illegal
		round.Report = rep.String()
	case rep.Excused > 0:
		round.Report = rep.String() + "\n"
	}
}
