package history

import (
	"slices"
	"strings"
)

// stateSet is a set of a model's states: the model's nondeterminism after an operation that may
// or may not have happened ([Uncertain]: a write acknowledged in a failover's loss window, or
// one straddling a restart without persistence). A model's state is one S until such an
// operation makes it a set, so that the common case allocates nothing; a set of one is always
// kept as the S itself.
type stateSet[S comparable] []S

// stepStates applies next to every state of state (one S, or a stateSet[S]) and returns whether
// any state could take the step, and the states they became. next returns up to two states
// (n of a and b): none when the state cannot take the step, two for an operation that may or
// may not have happened.
func stepStates[S comparable](state any, next func(S) (a, b S, n int)) (bool, any) {
	if st, ok := state.(S); ok {
		a, b, n := next(st)
		switch {
		case n == 0:
			return false, state
		case n == 1 || a == b:
			return true, a
		}
		return true, stateSet[S]{a, b}
	}
	var out stateSet[S]
	add := func(s S) {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	for _, st := range state.(stateSet[S]) {
		a, b, n := next(st)
		if n > 0 {
			add(a)
		}
		if n > 1 {
			add(b)
		}
	}
	switch len(out) {
	case 0:
		return false, state
	case 1:
		return true, out[0]
	}
	return true, out
}

// maybeStep is the step of an operation on one state st: next is what it makes of st, ok whether
// st could take it. An operation that may not have happened (maybe) can also leave st as it is.
func maybeStep[S comparable](st, next S, ok, maybe bool) (S, S, int) {
	switch {
	case maybe && ok:
		return st, next, 2
	case maybe:
		return st, st, 1
	case ok:
		return next, next, 1
	}
	return st, st, 0
}

// equalStates compares two states of stepStates: equal values, or equal sets.
func equalStates[S comparable](x, y any) bool {
	xs, xset := x.(stateSet[S])
	ys, yset := y.(stateSet[S])
	if !xset && !yset {
		return x.(S) == y.(S)
	}
	if !xset || !yset || len(xs) != len(ys) {
		return false
	}
	for _, s := range xs {
		if !slices.Contains(ys, s) {
			return false
		}
	}
	return true
}

// describeStates describes a state of stepStates with describe for one S.
func describeStates[S comparable](state any, describe func(S) string) string {
	set, ok := state.(stateSet[S])
	if !ok {
		return describe(state.(S))
	}
	parts := make([]string, len(set))
	for i, s := range set {
		parts[i] = describe(s)
	}
	return "one of {" + strings.Join(parts, ", ") + "}"
}

// maybePrefix marks an operation that may or may not have happened in a description.
func maybePrefix(maybe bool) string {
	if maybe {
		return "maybe (straddling a restart, or in a failover's loss window) "
	}
	return ""
}
