package telemetry

import (
	"log/slog"
	"slices"

	"github.com/igniter-go/store/ops"
)

// Prefix starts every event name.
const Prefix = "igniter.store."

// Phase is the part of an operation an event reports.
type Phase uint8

// The phases. An operation emits Started, then Success or Error. Signals have their own phase.
const (
	PhaseStarted Phase = iota
	PhaseSuccess
	PhaseError
	PhaseSignal // a signal event: no started/success/error suffix
)

var phaseNames = [...]string{"started", "success", "error", ""}

// String returns started, success, error, or "" for PhaseSignal.
func (p Phase) String() string {
	if int(p) < len(phaseNames) {
		return phaseNames[p]
	}
	return ""
}

// EventSpec describes one name of the catalog.
type EventSpec struct {
	// Name is the full event name, e.g. igniter.store.kv.get.started.
	Name string
	// Group and Event are the name's parts: igniter.store.<Group>.<Event>[.<Phase>].
	Group, Event string
	// Phase is the operation phase, or PhaseSignal.
	Phase Phase
	// Level is debug for started and success, error for error (as the original); an error
	// event whose outcome is an answer, not a failure, is emitted at info instead (see
	// [ErrorLevel]). Signals choose theirs.
	Level slog.Level
	// Kind is the operation; ops.KindUnknown for signals.
	Kind ops.Kind
	// Signal is the signal kind; ops.SignalUnknown for operations.
	Signal ops.SignalKind
	// Original reports whether the original @igniter-js/store emits this name (63 of them).
	Original bool
	// Attributes are the keys the event may carry after the base attributes (service,
	// namespace, scope key, scope depth), in order. Some are conditional (a TTL of 0 is absent).
	Attributes []string
}

// originalKinds are the operations of the original's catalog, in its order (kv 18, counter 9,
// batch 6, claim 3, events 9, stream 15, dev 3).
var originalKinds = []ops.Kind{
	ops.KVGet, ops.KVSet, ops.KVRemove, ops.KVExists, ops.KVExpire, ops.KVTouch,
	ops.CounterIncrement, ops.CounterDecrement, ops.CounterExpire,
	ops.BatchGet, ops.BatchSet,
	ops.ClaimOnce,
	ops.EventsPublish, ops.EventsSubscribe, ops.EventsUnsubscribe,
	ops.StreamAppend, ops.StreamRead, ops.StreamRange, ops.StreamAck, ops.StreamEnsure,
	ops.DevScan,
}

var errorKeys = []string{AttrErrorOperation, AttrErrorCode, AttrErrorMessage}

// startedKeys are the per-operation keys of a started event (spec §9), shared by success and
// error.
func startedKeys(k ops.Kind) []string {
	switch k {
	case ops.KVSet, ops.KVExpire, ops.KVTouch, ops.KVSetIfAbsent:
		return []string{AttrKVTTL}
	case ops.CounterIncrement, ops.CounterDecrement:
		return []string{AttrCounterDelta}
	case ops.CounterExpire:
		return []string{AttrCounterTTL}
	case ops.ClaimOnce:
		return []string{AttrClaimTTL}
	case ops.LeaseAcquire, ops.LeaseExtend:
		return []string{AttrLeaseTTL}
	case ops.BatchGet, ops.BatchSet:
		return []string{AttrBatchCount}
	case ops.EventsPublish:
		return []string{AttrEventsChannel}
	case ops.EventsSubscribe, ops.EventsUnsubscribe:
		return []string{AttrEventsChannel, AttrEventsWildcard}
	case ops.StreamAppend:
		return []string{AttrStreamName, AttrStreamCount}
	case ops.StreamRange, ops.StreamRedrive:
		return []string{AttrStreamName}
	case ops.StreamEnsure, ops.StreamRead, ops.StreamClaim, ops.StreamPending:
		return []string{AttrStreamName, AttrStreamGroup, AttrStreamConsumer}
	case ops.StreamAck:
		return []string{AttrStreamName, AttrStreamGroup, AttrStreamConsumer, AttrStreamCount}
	}
	return nil
}

// successKeys are the keys a success event adds to the started ones.
func successKeys(k ops.Kind) []string {
	switch k {
	case ops.KVGet:
		return []string{AttrKVFound}
	case ops.KVExists:
		return []string{AttrKVExisted}
	case ops.CounterIncrement, ops.CounterDecrement:
		return []string{AttrCounterValue}
	case ops.ClaimOnce:
		return []string{AttrClaimAcquired}
	case ops.ClaimRelease:
		return []string{AttrClaimReleased}
	case ops.LeaseAcquire:
		return []string{AttrLeaseAcquired}
	case ops.LeaseExtend:
		return []string{AttrLeaseExtended}
	case ops.LeaseRelease:
		return []string{AttrLeaseReleased}
	case ops.BatchGet:
		return []string{AttrBatchFound}
	case ops.StreamRange, ops.StreamRead, ops.StreamClaim, ops.StreamPending, ops.StreamRedrive:
		return []string{AttrStreamCount}
	}
	return nil
}

// opNames[k][phase] is the name of an operation phase, built once.
var opNames = func() [][3]string {
	kinds := ops.Kinds()
	names := make([][3]string, len(kinds)+1)
	for _, k := range append([]ops.Kind{ops.KindUnknown}, kinds...) {
		base := Prefix + k.Group() + "." + k.Event() + "."
		names[k] = [3]string{base + "started", base + "success", base + "error"}
	}
	return names
}()

// Name returns the event name of phase (PhaseStarted, PhaseSuccess or PhaseError) of kind, e.g.
// Name(ops.ClaimOnce, PhaseSuccess) is igniter.store.claim.acquire.success. It does not
// allocate.
func Name(kind ops.Kind, phase Phase) string {
	if int(kind) >= len(opNames) {
		kind = ops.KindUnknown
	}
	if phase > PhaseError {
		return ""
	}
	return opNames[kind][phase]
}

// Catalog returns every event name: the original's 63 first, in its order, then the operations
// this edition adds, then the signals. The slice is the caller's.
func Catalog() []EventSpec {
	out := make([]EventSpec, 0, 3*len(opNames)+len(signals))
	addKind := func(k ops.Kind, original bool) {
		started := startedKeys(k)
		for _, ph := range []Phase{PhaseStarted, PhaseSuccess, PhaseError} {
			spec := EventSpec{Name: Name(k, ph), Group: k.Group(), Event: k.Event(), Phase: ph,
				Level: slog.LevelDebug, Kind: k, Original: original}
			spec.Attributes = slices.Clone(started)
			switch ph {
			case PhaseSuccess:
				spec.Attributes = append(spec.Attributes, successKeys(k)...)
			case PhaseError:
				spec.Level = slog.LevelError
				spec.Attributes = append(spec.Attributes, errorKeys...)
			}
			out = append(out, spec)
		}
	}
	for _, k := range originalKinds {
		addKind(k, true)
	}
	for _, k := range ops.Kinds() {
		if !slices.Contains(originalKinds, k) {
			addKind(k, false)
		}
	}
	for _, sk := range ops.SignalKinds() {
		d := signalDef(sk)
		out = append(out, EventSpec{Name: d.name, Group: d.group, Event: d.event, Phase: PhaseSignal,
			Level: d.level, Signal: sk, Attributes: slices.Clone(d.keys)})
	}
	return out
}

// Names returns the names of [Catalog], in its order.
func Names() []string {
	cat := Catalog()
	names := make([]string, len(cat))
	for i, e := range cat {
		names[i] = e.Name
	}
	return names
}
