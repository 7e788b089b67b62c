package history

import (
	"errors"
	"sync"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/igniter-go/store/ops"
)

// Outcome is what an operation's error says about its effect.
type Outcome int

const (
	// OK: the operation took effect once, between its call and its return.
	OK Outcome = iota
	// Failed: the operation certainly did not take effect.
	Failed
	// Unknown: the operation may or may not have taken effect.
	Unknown
)

func (o Outcome) String() string {
	switch o {
	case OK:
		return "ok"
	case Failed:
		return "failed"
	}
	return "unknown"
}

// Classify maps an operation's error to its outcome, from the store's codes (DESIGN §6):
//
//   - nil: OK.
//   - STORE_OUTCOME_UNKNOWN (the reply was lost after the write), STORE_TIMEOUT and
//     STORE_CANCELED (the deadline may have passed after the write): Unknown.
//   - STORE_RETRY_BUDGET_EXHAUSTED: the outcome of the attempt it wraps.
//   - STORE_CONNECTION_FAILED and STORE_NOT_CONNECTED (certainly not sent), STORE_CIRCUIT_OPEN and
//     STORE_CLOSED (rejected before sending), bad input, a Redis error reply, a conflict, a miss:
//     Failed.
//   - anything else, including every error that is not an *ops.Error (a plain go-redis client's
//     io.EOF or i/o timeout): Unknown, the only sound reading of an error one cannot interpret.
func Classify(err error) Outcome {
	if err == nil {
		return OK
	}
	var e *ops.Error
	if !errors.As(err, &e) {
		return Unknown
	}
	switch e.Code {
	case ops.CodeOutcomeUnknown, ops.CodeTimeout, ops.CodeCanceled:
		return Unknown
	case ops.CodeRetryBudgetExhausted:
		if e.Err == nil {
			return Unknown
		}
		return Classify(e.Err)
	case ops.CodeConnectionFailed, ops.CodeNotConnected, ops.CodeCircuitOpen, ops.CodeClosed:
		return Failed
	}
	switch e.Category {
	case ops.ErrInvalid, ops.ErrFailed, ops.ErrConflict, ops.ErrNotFound:
		return Failed
	}
	return Unknown
}

// Record is one operation as a client saw it. Times are nanoseconds since the recorder started,
// from the monotonic clock; Return is -1 while the operation is in flight.
type Record struct {
	ID     int
	Client int
	Input  any
	Output any // meaningful only when Err is nil
	Err    error
	Call   int64
	Return int64
}

// Recorder collects the operations of concurrent clients. It is safe for concurrent use.
type Recorder struct {
	start  time.Time
	mu     sync.Mutex
	recs   []Record
	resets []window // Reset's windows, in order
	lossy  []window // MayLose's windows
}

// NewRecorder returns an empty recorder whose clock starts now.
func NewRecorder() *Recorder { return &Recorder{start: time.Now()} }

func (r *Recorder) now() int64 { return int64(time.Since(r.start)) }

// Call records that client invokes an operation with input, and returns the handle that
// records its return. Take it right before sending the operation.
func (r *Recorder) Call(client int, input any) Pending {
	r.mu.Lock()
	defer r.mu.Unlock()
	id := len(r.recs)
	r.recs = append(r.recs, Record{ID: id, Client: client, Input: input, Call: r.now(), Return: -1})
	return Pending{r: r, id: id}
}

// Pending is an operation in flight.
type Pending struct {
	r  *Recorder
	id int
}

// Return records the operation's output and error, right after it returned.
func (p Pending) Return(output any, err error) {
	p.r.mu.Lock()
	defer p.r.mu.Unlock()
	rec := &p.r.recs[p.id]
	rec.Output, rec.Err, rec.Return = output, err, p.r.now()
}

// Records returns a copy of every record, in call order.
func (r *Recorder) Records() []Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Record(nil), r.recs...)
}

// ackedAfter counts the operations called after at that returned without error.
func (r *Recorder) ackedAfter(at time.Time) int {
	from := int64(at.Sub(r.start))
	n := 0
	for _, rec := range r.Records() {
		if rec.Call > from && rec.Return >= 0 && rec.Err == nil {
			n++
		}
	}
	return n
}

// Stats counts a history's operations by outcome.
type Stats struct {
	OK, Failed, Unknown int
	// Excused counts the OK operations that overlapped a window where Redis may lose
	// acknowledged writes ([Recorder.MayLose]): checked as maybe happened (reads left out).
	Excused int
}

// Total is the number of operations recorded.
func (s Stats) Total() int { return s.OK + s.Failed + s.Unknown }

// count adds one operation of outcome o.
func (s *Stats) count(o Outcome) {
	switch o {
	case OK:
		s.OK++
	case Failed:
		s.Failed++
	default:
		s.Unknown++
	}
}

// outcome is the record's outcome by classify; an operation still in flight is Unknown.
func (rec Record) outcome(classify func(error) Outcome) Outcome {
	if rec.Return < 0 {
		return Unknown
	}
	return classify(rec.Err)
}

// ReadOnly is implemented by inputs of operations that have no effect: when such an operation's
// outcome is not OK it is left out of the history, as it constrains nothing.
type ReadOnly interface{ ReadOnly() bool }

// Timed is implemented by inputs whose model needs the operation's own call and return times (a
// lease's expiry): [Recorder.History] passes them, with the return time of an operation of unknown
// outcome being the end of the history.
type Timed interface{ WithTimes(call, ret int64) any }

// History turns the records into a porcupine history, with classify (nil means [Classify])
// deciding each operation's outcome: OK operations keep their output and times; Failed ones
// are left out; Unknown ones get a nil output and a return time after every other event. An
// operation still in flight counts as Unknown. Each operation's Metadata is its record ID.
func (r *Recorder) History(classify func(error) Outcome) ([]porcupine.Operation, Stats) {
	hs, st := r.histories(nil, classify)
	return hs[0], st
}
