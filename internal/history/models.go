package history

import (
	"fmt"
	"slices"

	"github.com/anishathalye/porcupine"
)

// keyed is implemented by every model input: the models partition a history per key.
type keyed interface{ key() string }

// partitionByKey splits a history into one partition per key, in key order.
func partitionByKey(history []porcupine.Operation) [][]porcupine.Operation {
	byKey := map[string][]porcupine.Operation{}
	for _, op := range history {
		k := op.Input.(keyed).key()
		byKey[k] = append(byKey[k], op)
	}
	keys := make([]string, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([][]porcupine.Operation, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, byKey[k])
	}
	return parts
}

// KVOp is the operation of a [KVInput].
type KVOp string

// The KV register's operations.
const (
	KVGet KVOp = "get"
	KVSet KVOp = "set"
	KVDel KVOp = "del"
)

// KVInput is a KV register operation on a key without TTL.
type KVInput struct {
	Op    KVOp
	Key   string
	Value string // for KVSet
	// Maybe: the write may not have happened ([Uncertain]); if it did, it happened within its
	// call and return.
	Maybe bool
}

func (in KVInput) key() string { return in.Key }

// Uncertain returns the input marked Maybe.
func (in KVInput) Uncertain() any {
	in.Maybe = true
	return in
}

// ReadOnly reports whether the operation is a get.
func (in KVInput) ReadOnly() bool { return in.Op == KVGet }

// KVOutput is what a get returned (a set or a delete returns the zero value).
type KVOutput struct {
	Value string
	Found bool
}

// kvState is one key's state.
type kvState struct {
	Value   string
	Present bool
}

// KVModel is a register per key: get returns the last value set, or nothing after a delete or
// before any set. A nil output (outcome unknown) accepts anything. A write marked Maybe may
// also not have happened: the state is then the set of both possibilities.
var KVModel = porcupine.Model{
	Partition: partitionByKey,
	Init:      func() any { return kvState{} },
	Step: func(state, input, output any) (bool, any) {
		in := input.(KVInput)
		return stepStates(state, func(st kvState) (kvState, kvState, int) {
			switch in.Op {
			case KVSet:
				return maybeStep(st, kvState{Value: in.Value, Present: true}, true, in.Maybe)
			case KVDel:
				return maybeStep(st, kvState{}, true, in.Maybe)
			}
			ok := true
			if output != nil {
				out := output.(KVOutput)
				ok = out.Found == st.Present && out.Value == st.Value
			}
			return maybeStep(st, st, ok, in.Maybe)
		})
	},
	Equal: equalStates[kvState],
	DescribeOperation: func(input, output any) string {
		in := input.(KVInput)
		switch in.Op {
		case KVSet:
			return fmt.Sprintf("%sset(%q, %q)%s", maybePrefix(in.Maybe), in.Key, in.Value, unknownSuffix(output))
		case KVDel:
			return fmt.Sprintf("%sdel(%q)%s", maybePrefix(in.Maybe), in.Key, unknownSuffix(output))
		}
		if output == nil {
			return fmt.Sprintf("get(%q) -> ?", in.Key)
		}
		if out := output.(KVOutput); out.Found {
			return fmt.Sprintf("get(%q) -> %q", in.Key, out.Value)
		}
		return fmt.Sprintf("get(%q) -> (absent)", in.Key)
	},
	DescribeState: func(state any) string {
		return describeStates(state, func(st kvState) string {
			if st.Present {
				return fmt.Sprintf("%q", st.Value)
			}
			return "(absent)"
		})
	},
}

func unknownSuffix(output any) string {
	if output == nil {
		return " -> ? (maybe applied)"
	}
	return " -> ok"
}

// CounterInput is a counter operation: add Delta and return the new value, or (Get) read it.
type CounterInput struct {
	Key   string
	Get   bool
	Delta int64
	// Maybe: the add may not have happened ([Uncertain]); if it did, it happened within its
	// call and return, and returned its output.
	Maybe bool
}

func (in CounterInput) key() string { return in.Key }

// Uncertain returns the input marked Maybe.
func (in CounterInput) Uncertain() any {
	in.Maybe = true
	return in
}

// ReadOnly reports whether the operation is a get.
func (in CounterInput) ReadOnly() bool { return in.Get }

// CounterOutput is the value an add or a get returned.
type CounterOutput struct{ Value int64 }

// CounterModel is an integer per key, starting at 0: add returns the sum of every add applied
// up to and including itself, get the sum so far. An add of unknown outcome (nil output) adds its
// delta wherever it is linearized — at the end of the history when it was never applied. An add
// marked Maybe either did not happen or returned its output: the state is then the set of both
// possibilities.
var CounterModel = porcupine.Model{
	Partition: partitionByKey,
	Init:      func() any { return int64(0) },
	Step: func(state, input, output any) (bool, any) {
		in := input.(CounterInput)
		return stepStates(state, func(st int64) (int64, int64, int) {
			next := st
			if !in.Get {
				next += in.Delta
			}
			return maybeStep(st, next, output == nil || output.(CounterOutput).Value == next, in.Maybe)
		})
	},
	Equal: equalStates[int64],
	DescribeOperation: func(input, output any) string {
		in := input.(CounterInput)
		op := fmt.Sprintf("%sadd(%q, %d)", maybePrefix(in.Maybe), in.Key, in.Delta)
		if in.Get {
			op = fmt.Sprintf("get(%q)", in.Key)
		}
		if output == nil {
			return op + " -> ? (maybe applied)"
		}
		return fmt.Sprintf("%s -> %d", op, output.(CounterOutput).Value)
	},
	DescribeState: func(state any) string {
		return describeStates(state, func(st int64) string { return fmt.Sprint(st) })
	},
}
